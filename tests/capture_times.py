"""Moving a captured answer in time, for the replay server's `--shift`: every time in it moves by the same whole
number of days, so that its newest contest starts tomorrow and a first run off-line shows a full calendar.

A whole number of days keeps each time of day, so the rewriting is of dates, in every way the captures write them:
ISO (`2026-06-13 21:00:00+0900`, `2020-04-01T04:00:00+00:00`), iCalendar (`20180604T170000Z`), CodeChef's
`25 Oct 2025  20:00:00`, HackerEarth's `Monday, Aug 17, 2026`, and unix seconds or milliseconds under the names the
sites use (`startTimeSeconds`, `startTime`, `contestStartTime`, ... also inside HTML-escaped JSON). The newest start
comes from the sites' own `parse()` (every site whose parser reads the body), and tests check that after the shift
each parser reads the same contests, each exactly that many days later.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fetchers.contest import Contest, load_json
from fetchers.registry import SiteModule, all_sites

#: fields that hold unix seconds (10 digits) or milliseconds (13 digits): Codeforces, LeetCode, Luogu, NowCoder
UNIX_FIELDS = ("startTimeSeconds", "startTime", "endTime", "contestStartTime", "contestEndTime")
MONTHS = [calendar.month_abbr[number] for number in range(1, 13)]
WEEKDAYS = [calendar.day_name[number] for number in range(7)]

ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?=[T ]\d{2}:\d{2})")
ICAL_DATE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?=T\d{6})")
DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}})(?!\d)")
MONTH_DAY_YEAR = re.compile(rf"(?:({'|'.join(WEEKDAYS)}), )?\b({'|'.join(MONTHS)}) (\d{{1,2}}), (\d{{4}})(?!\d)")
UNIX_TIME = re.compile(rf"(?<![A-Za-z])((?:{'|'.join(UNIX_FIELDS)})(?:\"|\\\"|&quot;|&amp;quot;|'|\s)*:\s*)"
                       r"(\d{13}|\d{10})(?!\d)")


def moved(day: date, days: int, width: int = 2) -> tuple[date, str]:
    later = day + timedelta(days=days)
    return later, f"{later.day:0{width}d}"


def shift_text(text: str, days: int) -> str:
    """Every time `text` writes moved `days` days later."""

    def iso(match: re.Match[str]) -> str:
        later = date(*map(int, match.groups())) + timedelta(days=days)
        return later.isoformat()

    def ical(match: re.Match[str]) -> str:
        later = date(*map(int, match.groups())) + timedelta(days=days)
        return later.strftime("%Y%m%d")

    def day_month_year(match: re.Match[str]) -> str:
        day, month, year = match.groups()
        later, day_text = moved(date(int(year), MONTHS.index(month) + 1, int(day)), days, len(day))
        return f"{day_text} {MONTHS[later.month - 1]} {later.year}"

    def month_day_year(match: re.Match[str]) -> str:
        weekday, month, day, year = match.groups()
        later, day_text = moved(date(int(year), MONTHS.index(month) + 1, int(day)), days, len(day))
        named = f"{WEEKDAYS[later.weekday()]}, " if weekday else ""
        return f"{named}{MONTHS[later.month - 1]} {day_text}, {later.year}"

    def unix(match: re.Match[str]) -> str:
        name, number = match.groups()
        scale = 1000 if len(number) == 13 else 1
        return f"{name}{int(number) + days * 86400 * scale}"

    rewriters: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (ISO_DATE, iso), (ICAL_DATE, ical), (DAY_MONTH_YEAR, day_month_year), (MONTH_DAY_YEAR, month_day_year),
        (UNIX_TIME, unix)]
    for pattern, rewrite in rewriters:
        text = pattern.sub(rewrite, text)
    return text


def parsed_by(site: SiteModule, text: str) -> list[Contest]:
    """What `site` reads in a body, or nothing when the body is not its answer."""
    try:
        return site.parse(load_json(text, site.slug) if site.info.response == "json" else text)
    except Exception:  # another site's answer: any parser may refuse it its own way
        return []


def readers(sites: Iterable[SiteModule], text: str) -> dict[str, list[Contest]]:
    """The sites whose parser reads this body (HackerRank's calendar is read by hackerrank and topcoder)."""
    found = {site.slug: parsed_by(site, text) for site in sites}
    return {slug: contests for slug, contests in found.items() if contests}


def days_to_tomorrow(contests: Iterable[Contest], now: datetime) -> int:
    """Whole days that move the newest start to tomorrow (UTC), at its own time of day."""
    newest = max(contest.start for contest in contests)
    return ((now + timedelta(days=1)).astimezone(UTC).date() - newest.astimezone(UTC).date()).days


def shifted(text: str, sites: Iterable[SiteModule], now: datetime) -> tuple[str, int]:
    """`text` moved so that its newest contest starts tomorrow, and by how many days (0: no parser read it). When
    several sites read the body, each keeps at least one contest to come: the site whose newest contest is the
    earliest gets it tomorrow, the others later."""
    found = readers(sites, text)
    if not found:
        return text, 0
    days = max(days_to_tomorrow(contests, now) for contests in found.values())
    return shift_text(text, days), days


def shifted_captures(files: dict[str, Path], now: datetime | None = None) -> dict[str, bytes]:
    """Each served capture (route -> file) moved so that its newest contest starts tomorrow."""
    sites = list(all_sites().values())
    moved_bodies = {}
    for route, path in files.items():
        text, _ = shifted(path.read_text(encoding="utf-8"), sites, now or datetime.now(UTC))
        moved_bodies[route] = text.encode("utf-8")
    return moved_bodies
