"""CodeChef: the contest list API gives present, future and past contests with ISO times in India time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fetchers.contest import Contest, ParseError, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("codechef", "CodeChef", "https://www.codechef.com", every=timedelta(hours=1))
API = "https://www.codechef.com/api/list/contests/all?sort_by=START&sorting_order=asc&offset=0&mode=all"
CONTEST_URL = "https://www.codechef.com/"
#: Practice contests and skill tests are not scheduled contests, so only these lists are read.
SECTIONS = ("present_contests", "future_contests", "past_contests")
#: The plain `contest_start_date` fields ("25 Oct 2025  00:00:00") carry no offset: they are India time.
SITE_ZONE = ZoneInfo("Asia/Kolkata")
PLAIN_DATE_FORMAT = "%d %b %Y %H:%M:%S"

_SERIES = re.compile(r"\b(Starters|Long Challenge|Cook-Off|Lunchtime)\b")


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_json(API))


def parse(payload: Any) -> list[Contest]:
    return [contest_from_row(row) for row in contest_rows(payload)]


def contest_rows(payload: Any) -> list[Any]:
    expect(isinstance(payload, dict), f"codechef: expected a JSON object, got {type(payload).__name__}")
    if payload.get("status") != "success":
        raise ParseError(f"codechef answered {payload.get('message') or payload.get('status')!r}")
    rows: list[Any] = []
    for section in SECTIONS:
        listed = payload.get(section)
        expect(isinstance(listed, list), f"codechef: `{section}` is not a list")
        rows.extend(listed)
    return rows


def contest_from_row(row: Any) -> Contest:
    expect(isinstance(row, dict), f"codechef: contest row {row!r:.80}")
    code = row.get("contest_code")
    expect(isinstance(code, str) and code, f"codechef: contest row without contest_code {row!r:.80}")
    title = row.get("contest_name")
    expect(isinstance(title, str), f"codechef: contest {code!r} has no contest_name")
    with reading(f"codechef: contest {code!r}"):
        start = row_time(row, "start")
        return Contest(
            SITE.slug, key=code, title=title.strip(), url=f"{CONTEST_URL}{code}", start=start,
            duration=duration_seconds(row, start), kind=series_kind(title),
        )


def row_time(row: dict[str, Any], which: str) -> datetime:
    """`contest_<which>_date_iso` (with its +05:30 offset) in UTC, else the plain date read as India time."""
    iso = row.get(f"contest_{which}_date_iso")
    if iso is not None:
        return as_utc(datetime.fromisoformat(iso))
    plain = " ".join(str(row[f"contest_{which}_date"]).split())
    return as_utc(datetime.strptime(plain, PLAIN_DATE_FORMAT).replace(tzinfo=SITE_ZONE))


def duration_seconds(row: dict[str, Any], start: datetime) -> int:
    """`contest_duration` is in minutes (a string); without it, end minus start."""
    minutes = row.get("contest_duration")
    if minutes is not None:
        return int(minutes) * 60
    return int((row_time(row, "end") - start).total_seconds())


def series_kind(title: str) -> str | None:
    """'Starters', 'Long Challenge', 'Cook-Off' or 'Lunchtime' when the title names the series."""
    match = _SERIES.search(title)
    return match.group(1) if match else None
