"""The calendar page's rules as plain functions: what a query string asks for (view, day, filters, zone),
which stretch of time a view covers in the viewer's zone, the days of a month or week grid and the contests on
each day they run, the sites' colours, and the links that keep a view's filters (so a view can be shared by its
address)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from hashlib import blake2b
from typing import Generic, TypeVar
from urllib.parse import quote, urlencode

from multidict import MultiMapping

from models.selection import ContestFilter
from notify.i18n import N_
from notify.zones import parse_zone, zone_of

#: the list view shows what starts within this long from now (and what is running)
LIST_SPAN = timedelta(weeks=4)
MAX_HOURS = 24 * 366
FIRST_YEAR, LAST_YEAR = 1970, 2200
GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
#: how many site colours web/static/calendar.css defines (.site-c0 ... .site-c7, each for light and dark)
SITE_COLOURS = 8
#: the longest time zone text kept in the form when it is refused
MAX_ZONE_TEXT = 100
#: what the time zone field says when the address named a zone that does not exist
ZONE_REFUSED = N_("Unknown time zone: times are shown in UTC. Try a name like Europe/Berlin.")
Item = TypeVar("Item")


class View(StrEnum):
    LIST = "list"
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class CalendarQuery:
    """What the address asks for. `zone_name` is None when neither the URL nor the cookie chose a zone."""

    view: View = View.LIST
    day: date | None = None  # any day of the month or week shown; None: today in the viewer's zone
    sites: tuple[str, ...] = ()  # () means every site
    keyword: str = ""
    min_hours: float | None = None
    max_hours: float | None = None
    zone_name: str | None = None
    zone_in_url: bool = False
    problems: tuple[str, ...] = ()  # texts (marked for translation) about what was ignored
    zone_refused: str = ""  # the zone text of the address when it named no zone (shown back in the form)

    @property
    def zone(self) -> tzinfo:
        return zone_of(self.zone_name or "UTC")

    def contest_filter(self) -> ContestFilter:
        return ContestFilter(
            sites=self.sites or None, include=(self.keyword,) if self.keyword else (),
            min_duration=round(self.min_hours * 3600) if self.min_hours is not None else None,
            max_duration=round(self.max_hours * 3600) if self.max_hours is not None else None,
        )

    def filtered(self) -> bool:
        return bool(self.sites or self.keyword or self.min_hours is not None or self.max_hours is not None)

    def parameters(self, **changes: object) -> list[tuple[str, str]]:
        """The query string pairs of this view (with `changes` applied): defaults are left out, the zone only
        when the address named it (a zone from the cookie stays the viewer's own)."""
        query = replace(self, **changes) if changes else self
        pairs: list[tuple[str, str]] = []
        if query.view is not View.LIST:
            pairs.append(("view", query.view.value))
            if query.day is not None:
                pairs.append(("date", query.day.isoformat()))
        pairs.extend(("site", site) for site in query.sites)
        if query.keyword:
            pairs.append(("q", query.keyword))
        for name in ("min_hours", "max_hours"):
            value = getattr(query, name)
            if value is not None:
                pairs.append((name, f"{value:g}"))
        if query.zone_in_url and query.zone_name:
            pairs.append(("tz", query.zone_name))
        return pairs

    def link(self, **changes: object) -> str:
        """A relative address ("?view=month&date=...") for this view with `changes`."""
        return "?" + urlencode(self.parameters(**changes))


def parse_query(query: MultiMapping[str], zone_cookie: str | None, known_sites: Iterable[str]) -> CalendarQuery:
    """Read a calendar address. Nothing in it is an error: what cannot be read is ignored and named in
    `problems`, so the visitor sees the calendar and why their parameter did not apply."""
    problems: list[str] = []
    view = parse_view(query.get("view", ""), problems)
    day = parse_day(query.get("date", ""), problems)
    known = set(known_sites)
    sites = tuple(dict.fromkeys(site for site in query.getall("site", []) if site in known))
    keyword = " ".join(query.get("q", "").split())[:100]
    min_hours = parse_hours(query.get("min_hours", ""), problems)
    max_hours = parse_hours(query.get("max_hours", ""), problems)
    zone_text = query.get("tz", "")
    zone_name, in_url = choose_zone(zone_text, zone_cookie)
    refused = zone_text[:MAX_ZONE_TEXT] if zone_text.strip() and not in_url else ""
    return CalendarQuery(view, day, sites, keyword, min_hours, max_hours, zone_name, in_url, tuple(problems), refused)


def parse_view(text: str, problems: list[str]) -> View:
    try:
        return View(text) if text else View.LIST
    except ValueError:
        problems.append(N_("Unknown view: showing the list."))
        return View.LIST


def parse_day(text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:  # far years would overflow the grid's arithmetic
        problems.append(N_("The date must look like 2026-11-01: showing today."))
        return None
    return day


def parse_hours(text: str, problems: list[str]) -> float | None:
    if not text.strip():
        return None
    try:
        hours = float(text.replace(",", "."))
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= MAX_HOURS:  # also refuses nan and inf
        problems.append(N_("A duration must be a number of hours, like 2 or 1.5: that limit was ignored."))
        return None
    return hours


def choose_zone(from_url: str, from_cookie: str | None) -> tuple[str | None, bool]:
    """(zone name, whether the address named it). The address wins over the cookie; with an unknown zone in the
    address times are in UTC (the form says why: `ZONE_REFUSED`), a stale cookie is quietly ignored."""
    if from_url.strip():
        zone = parse_zone(from_url)
        if zone is not None:
            return zone, True
        return "UTC", False
    return (parse_zone(from_cookie) if from_cookie else None), False


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """When `day` begins in `zone`, in UTC (DST-correct: the local clock's 00:00 of that day)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def month_days(day: date) -> list[date]:
    """The days of the month grid holding `day`: whole weeks from Monday to Sunday."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = first - timedelta(days=first.weekday())
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    return [start + timedelta(days=n) for n in range((end - start).days)]


def week_days(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def shift(view: View, day: date, steps: int) -> date:
    """The first day of the previous (-1) or next (+1) month or week."""
    if view is View.WEEK:
        return week_days(day)[0] + timedelta(weeks=steps)
    month_index = day.year * 12 + day.month - 1 + steps
    return date(month_index // 12, month_index % 12 + 1, 1)


def grid_days(view: View, day: date) -> list[date]:
    return month_days(day) if view is View.MONTH else week_days(day)


def period(view: View, day: date, zone: tzinfo, now: datetime) -> tuple[datetime, datetime]:
    """The UTC stretch a view covers: from now for the list (running contests are added by the caller), the
    grid's days in the viewer's zone for the month and week."""
    if view is View.LIST:
        return now, now + LIST_SPAN
    days = grid_days(view, day)
    return local_midnight(days[0], zone), local_midnight(days[-1] + timedelta(days=1), zone)


@dataclass(frozen=True, slots=True)
class Placed(Generic[Item]):
    """An item on one day of a grid: a contest that runs over several days is placed on each of them."""

    item: Item
    continued: bool = False  # it began on an earlier day
    continues: bool = False  # it runs on into a later day
    first: bool = True  # its first place in the view (where its menu goes)


def local_days(start: datetime, end: datetime, zone: tzinfo) -> tuple[date, date]:
    """The first and the last day in `zone` that a contest runs on: one that ends at midnight does not reach
    into the next day, one without a duration is on its start day."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date() if end > start else first
    return first, max(first, last)


def by_days_running(spans: Sequence[tuple[datetime, datetime, Item]], zone: tzinfo,
                    shown: Sequence[date]) -> dict[date, list[Placed[Item]]]:
    """Items on every day of `shown` (consecutive days) that they run on in `zone`, in the order given. Only the
    shown days are walked, so a contest of half a year costs no more than a grid of days."""
    days: dict[date, list[Placed[Item]]] = {}
    for start, end, item in spans:
        first, last = local_days(start, end, zone)
        day = max(first, shown[0])
        while day <= min(last, shown[-1]):
            days.setdefault(day, []).append(Placed(item, continued=day > first, continues=day < last,
                                                   first=day == max(first, shown[0])))
            day += timedelta(days=1)
    return days


def colour_slots(slugs: Iterable[str]) -> dict[str, int]:
    """A colour (0 .. SITE_COLOURS-1) for each site: the one its slug hashes to, or the next one free, so that
    each run of SITE_COLOURS sites in listing order (the popular ones first) share none, and a site keeps its
    colour on every page."""
    slots: dict[str, int] = {}
    for index, slug in enumerate(slugs):
        this_round = set(list(slots.values())[index - index % SITE_COLOURS:])  # the colours of up to 7 sites before
        slot = colour_of(slug)
        while slot in this_round:
            slot = (slot + 1) % SITE_COLOURS
        slots[slug] = slot
    return slots


def colour_of(slug: str) -> int:
    """The colour a site's slug hashes to (stable across processes, unlike hash())."""
    return blake2b(slug.encode(), digest_size=2).digest()[0] % SITE_COLOURS


def by_local_day(starts: Sequence[tuple[datetime, Item]], zone: tzinfo) -> dict[date, list[Item]]:
    """Items by the day they start on in `zone` (the order given is kept within a day)."""
    days: dict[date, list[Item]] = {}
    for start, item in starts:
        days.setdefault(start.astimezone(zone).date(), []).append(item)
    return days


def calendar_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_link(title: str, start: datetime, end: datetime, details: str) -> str:
    """Google Calendar's "new event" page filled in with the contest (an empty event lasts a minute)."""
    end = max(end, start + timedelta(minutes=1))
    return GOOGLE_CALENDAR + "?" + urlencode({
        "action": "TEMPLATE", "text": title, "dates": f"{calendar_stamp(start)}/{calendar_stamp(end)}",
        "details": details,
    }, quote_via=quote)


def with_parameter(pairs: Sequence[tuple[str, str]], name: str, value: str) -> str:
    """The query string `pairs` with `name` set to `value` (the language switcher's links)."""
    return "?" + urlencode([*(pair for pair in pairs if pair[0] != name), (name, value)])


def query_pairs(query: MultiMapping[str]) -> list[tuple[str, str]]:
    """The address's parameters, without the script's `partial`."""
    return [(name, value) for name, value in query.items() if name != "partial"]
