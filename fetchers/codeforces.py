"""Codeforces: the official API lists every contest with its start and duration."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fetchers.contest import Contest, ParseError, SiteInfo, expect, reading, utc_from_unix
from fetchers.http import SiteClient

#: Codeforces asks API clients for at most one request per 2 seconds.
SITE = SiteInfo("codeforces", "Codeforces", "https://codeforces.com", every=timedelta(minutes=10),
                request_gap=2.0)
API = "https://codeforces.com/api/contest.list"

_DIVISION = re.compile(r"Div\.\s*(\d)(?:\s*\+\s*Div\.\s*(\d))?")


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_json(API))


def parse(payload: Any) -> list[Contest]:
    return parse_contest_list(payload, site=SITE.slug, url_prefix="https://codeforces.com/contest/",
                              kind_of=division_kind)


def parse_contest_list(payload: Any, *, site: str, url_prefix: str, kind_of) -> list[Contest]:
    """Read a `contest.list` answer; rows without a start time (unscheduled gym trainings) are skipped.

    Some saved responses keep only the `result` array; that is accepted too.
    """
    rows = result_rows(payload)
    contests = []
    for row in rows:
        expect(isinstance(row, dict) and "id" in row and "name" in row, f"{site}: contest row {row!r:.80}")
        if row.get("startTimeSeconds") is None:
            continue
        with reading(f"{site}: contest {row.get('id')!r}"):
            contests.append(Contest(
                site, key=str(row["id"]), title=str(row["name"]).strip(), url=f"{url_prefix}{row['id']}",
                start=utc_from_unix(int(row["startTimeSeconds"])), duration=int(row["durationSeconds"]),
                kind=kind_of(row),
            ))
    return contests


def result_rows(payload: Any) -> list[Any]:
    if isinstance(payload, list):
        return payload
    expect(isinstance(payload, dict), f"codeforces: expected a JSON object, got {type(payload).__name__}")
    if payload.get("status") != "OK":
        raise ParseError(f"codeforces answered {payload.get('comment') or payload.get('status')!r}")
    rows = payload.get("result")
    expect(isinstance(rows, list), "codeforces: `result` is not a list")
    return rows


def division_kind(row: dict[str, Any]) -> str | None:
    """'Div. 2', 'Div. 1 + 2', 'Educational' from the title; None when the title names no division."""
    name = str(row["name"])
    if "Educational" in name:
        return "Educational"
    match = _DIVISION.search(name)
    if match is None:
        return None
    first, second = match.groups()
    return f"Div. {first} + {second}" if second else f"Div. {first}"
