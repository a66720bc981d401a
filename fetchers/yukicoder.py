"""yukicoder: the API lists the contests that have not started yet, with Japan-time offsets.

- `/api/v1/contest/future` answers a JSON list of `{Id, Name, Date, EndDate, ProblemIdList}`. A contest
  leaves the list once it starts; ingest never counts a contest that has started as missing, so that is
  not a cancellation.
- `Date` and `EndDate` carry `+09:00` (`2021-10-01T21:20:00+09:00`); they are converted to UTC and the
  duration is `EndDate - Date`.
- The list is in date order, not Id order (in 2021 Id 352 ran a week after 355; in 2024 Id 490 before
  488): Ids are handed out when a contest is planned, so nothing here relies on their order.
- The key is the Id; the contest page is `https://yukicoder.me/contests/<Id>`. Most contests are titled
  just "yukicoder contest": the title is kept as the site gives it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fetchers.contest import Contest, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("yukicoder", "yukicoder", "https://yukicoder.me", every=timedelta(hours=1))
API = "https://yukicoder.me/api/v1/contest/future"
CONTEST_URL = "https://yukicoder.me/contests/"
#: Ids are small positive integers; anything beyond this is not an Id (and would not fit a key).
MAX_ID = 10**12
#: the longest duration the database stores (a 32-bit integer of seconds)
MAX_DURATION = 2**31 - 1


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_json(API))


def parse(payload: Any) -> list[Contest]:
    expect(isinstance(payload, list), f"yukicoder: expected a JSON list, got {type(payload).__name__}")
    return [contest_from_row(row) for row in payload]


def contest_from_row(row: Any) -> Contest:
    expect(isinstance(row, dict), f"yukicoder: contest row {row!r:.80}")
    contest_id = row.get("Id")
    expect(type(contest_id) is int and 0 < contest_id < MAX_ID, f"yukicoder: contest row without an Id {row!r:.80}")
    name = row.get("Name")
    expect(isinstance(name, str), f"yukicoder: contest {contest_id} has no Name")
    with reading(f"yukicoder: contest {contest_id}"):
        start = row_time(row, "Date")
        duration = int((row_time(row, "EndDate") - start).total_seconds())
        expect(duration <= MAX_DURATION, f"duration of {duration} s")
        return Contest(SITE.slug, key=str(contest_id), title=name.strip(), url=f"{CONTEST_URL}{contest_id}",
                       start=start, duration=duration)


def row_time(row: dict[str, Any], field: str) -> datetime:
    """`2021-10-01T21:20:00+09:00` -> the same moment in UTC; a time without an offset is a ParseError."""
    text = row.get(field)
    expect(isinstance(text, str), f"`{field}` is {text!r:.40}, not a time")
    return as_utc(datetime.fromisoformat(text))
