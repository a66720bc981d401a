"""Codeforces Gym: training contests from the same API (`gym=true`); unscheduled ones are skipped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fetchers.codeforces import parse_contest_list
from fetchers.contest import Contest, SiteInfo
from fetchers.http import SiteClient

SITE = SiteInfo("codeforces-gym", "Codeforces Gym", "https://codeforces.com/gyms", every=timedelta(hours=1),
                request_gap=2.0, resource="codeforces.com/gyms")
API = "https://codeforces.com/api/contest.list?gym=true"


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_json(API))


def parse(payload: Any) -> list[Contest]:
    return parse_contest_list(payload, site=SITE.slug, url_prefix="https://codeforces.com/gym/",
                              kind_of=lambda row: row.get("kind"))
