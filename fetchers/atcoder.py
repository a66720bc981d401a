"""AtCoder: the contests page (running, upcoming, daily and recent tables), read as HTML.

The same parser reads the archive (`/contests/archive`, one table of past contests) and both the English
and the Japanese layouts: it relies on the table structure, never on header or section wording.

- Every `<table>` on the page is a contest table. A row with a `<time>` cell is a scheduled contest:
  start time, contest link, duration, rated range. Rows without `<time>` (the "Permanent Contests"
  table: practice contests that never start or end) have no schedule and are skipped. The "Daily
  Contests" rows (AtCoder Weekday Contest) do have a start and a duration, so they are kept.
- Times are shown as `2026-06-13 21:00:00+0900`; the explicit offset is used (JST when a time lacks one)
  and converted to UTC. Durations are `HH:MM` with hours beyond 24 for long contests (`240:00`).
- `key` is the contest id from the link (`/contests/abc409` -> `abc409`).
- `kind` is the AtCoder series read from that id: `abc…`, `arc…`, `agc…`, `ahc…`, `awc…` followed by a
  number give `ABC`, `ARC`, `AGC`, `AHC`, `AWC`; any other contest (sponsored, university, World Tour
  Finals…) gets None. The id is used rather than the title because sponsored rounds keep their series id
  (`abc464` is titled "…学生選手権… (AtCoder Beginner Contest 464)") and rather than the "Rated Range"
  column because that text changes with language and era (`- 1999` today, ` ~ 1999` in 2019).
- Titles are the link text with runs of ASCII whitespace collapsed (pretty-printed copies wrap them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from fetchers.contest import Contest, ParseError, SiteInfo, expect
from fetchers.http import SiteClient

SITE = SiteInfo("atcoder", "AtCoder", "https://atcoder.jp", every=timedelta(minutes=30), response="text")
PAGE = "https://atcoder.jp/contests/?lang=en"
CONTEST_URL = "https://atcoder.jp/contests/"
#: The zone AtCoder shows its times in, used only when a time carries no offset.
JST = ZoneInfo("Asia/Tokyo")

_CONTEST_PATH = re.compile(r"/contests/([A-Za-z0-9_-]+)/?")
_DURATION = re.compile(r"(\d+):([0-5]\d)")
_SERIES = re.compile(r"(abc|arc|agc|ahc|awc)\d+")
_ASCII_SPACE = re.compile(r"[ \t\r\n\f]+")


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(PAGE))


def parse(payload: Any) -> list[Contest]:
    """Contests of every scheduled row, in page order, each key once (the first row wins)."""
    tables = contest_tables(payload)
    contests: dict[str, Contest] = {}
    for table in tables:
        for row in table.css("tbody > tr"):
            contest = row_contest(row)
            if contest is not None:
                contests.setdefault(contest.key, contest)
    return list(contests.values())


def contest_tables(payload: Any) -> list[LexborNode]:
    """The page's tables; a body that is not a whole HTML page with at least one table is a ParseError."""
    expect(isinstance(payload, str), f"atcoder: expected the page text, got {type(payload).__name__}")
    expect(payload.strip(), "atcoder: empty page")
    expect(payload.rstrip().lower().endswith("</html>"), "atcoder: page is truncated (no closing </html>)")
    tables = LexborHTMLParser(payload).css("table")
    expect(tables, "atcoder: no contest table on the page")
    return tables


def row_contest(row: LexborNode) -> Contest | None:
    """One table row as a Contest; None for a row without a start time (a permanent contest)."""
    time = row.css_first("time")
    if time is None:
        return None
    cells = row.css("td")
    expect(len(cells) >= 3, f"atcoder: row with {len(cells)} cells: {cell_text(row)[:80]!r}")
    link = cells[1].css_first("a[href*='/contests/']")
    expect(link is not None, f"atcoder: no contest link in {cell_text(cells[1])[:80]!r}")
    key = contest_id(link.attributes.get("href") or "")
    return Contest(
        SITE.slug, key=key, title=cell_text(link), url=CONTEST_URL + key,
        start=start_time(time.text(strip=True)), duration=duration_seconds(cell_text(cells[2])),
        kind=series_kind(key),
    )


def cell_text(node: LexborNode) -> str:
    """Text with ASCII whitespace runs collapsed; full-width spaces are part of Japanese titles."""
    return _ASCII_SPACE.sub(" ", node.text()).strip()


def contest_id(href: str) -> str:
    """`/contests/abc409` or `https://atcoder.jp/contests/abc409` -> `abc409`."""
    match = _CONTEST_PATH.fullmatch(urlsplit(href).path)
    if match is None:
        raise ParseError(f"atcoder: not a contest link: {href!r}")
    return match.group(1)


def start_time(text: str) -> datetime:
    """`2026-06-13 21:00:00+0900` -> the same moment in UTC."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        try:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=JST)
        except ValueError as error:
            raise ParseError(f"atcoder: bad start time {text!r}") from error
    return moment.astimezone(UTC)


def duration_seconds(text: str) -> int:
    """`01:40` -> 6000, `240:00` -> 864000 (hours are not capped at 24)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ParseError(f"atcoder: bad duration {text!r}")
    hours, minutes = match.groups()
    return int(hours) * 3600 + int(minutes) * 60


def series_kind(key: str) -> str | None:
    """`abc409` -> 'ABC' (likewise ARC, AGC, AHC, AWC); None for contests outside these series."""
    match = _SERIES.fullmatch(key)
    return match.group(1).upper() if match else None
