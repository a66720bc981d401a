"""Reading an iCalendar feed (RFC 5545) into events and contests: pure, shared by every calendar source.

- `icalendar` reads the text: folded lines, `\\,` `\\;` `\\n` escapes, TZID parameters (zoneinfo names, Windows
  names and the feed's own VTIMEZONEs). Nothing here splits lines by hand.
- `recurring_ical_events` expands RRULE, RDATE and EXDATE over the window and applies overridden occurrences
  (RECURRENCE-ID), one UID's series at a time (its Series and EventAdapter), so one bad series never stops
  the others. A calendar with X-WR-TIMEZONE (Google Calendar's exports) goes through `x_wr_timezone` first,
  as `recurring_ical_events.of()` would: floating times are that zone's, and UTC start times repeat on that
  zone's wall clock across DST; when that zone is unknown, only the floating events are skipped.
  Floating times without X-WR-TIMEZONE are read as UTC; all-day (DATE) events start at 00:00 UTC.
- Keys: the UID for a single event; `UID@YYYYMMDDTHHMMSSZ` (the occurrence's original start in UTC) for an
  occurrence of a recurring event, so an override that moves an occurrence keeps its key and shows as moved.
  Keys longer than the database allows are cut and end with a sha1 of the whole key.
- The address: the URL property, else the first http(s) link in LOCATION, then in DESCRIPTION. LOCATION comes
  first because feeds that have no URL property put the event's page there (HackerRank's does), while a
  DESCRIPTION often links to sponsors, rules and images. Google's redirect links (`google.com/url?q=…`, pasted
  from a mail into Google Calendar) are unwrapped to the address they lead to. A link longer than the database
  keeps is passed over.
- A VEVENT without UID, DTSTART or SUMMARY, with a value icalendar could not read, a TZID nobody defines, an end
  before its start or a length beyond the database's, or a series recurring too densely is skipped, counted in
  `CalendarEvents.skipped` and logged in one line; so every event read makes a valid Contest. A text that is
  not a calendar (an HTML error page, nothing, a cut-off body) is a ParseError.
- Hostile feeds stay cheap: a series is expanded only when its rule reaches the window end within MAX_STEPS
  steps, and one yielding more than MAX_OCCURRENCES occurrences in the window is skipped, so an unbounded
  rule, COUNT=1000000000 or FREQ=SECONDLY cost no more than the window holds. One case is not bounded here:
  a rule that can never occur (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) makes dateutil search up to year 9999,
  a few seconds for each such series.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.cal import Component
from selectolax.lexbor import LexborHTMLParser

from fetchers.contest import LONGEST_DURATION, LONGEST_KEY, LONGEST_URL, Contest, ParseError

#: the longest key the database keeps (models: Contest.key)
MAX_KEY_LENGTH = LONGEST_KEY
#: a recurring series is expanded only if its rule reaches the window end within this many steps
MAX_STEPS = 100_000
#: a series with more occurrences than this in the window is not a contest series: it is skipped
MAX_OCCURRENCES = 1000
#: the window is widened by this much when asking recurring_ical_events (floating times compare loosely)
_WINDOW_MARGIN = timedelta(days=1)
#: what one step of each RRULE frequency is at least (months and years at their shortest)
_STEP = {
    "SECONDLY": timedelta(seconds=1), "MINUTELY": timedelta(minutes=1), "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1), "WEEKLY": timedelta(weeks=1), "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
#: properties whose broken value makes the event unreadable (None: a line icalendar could not split)
_READ_PROPERTIES = frozenset({
    None, "UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
})
_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
#: properties an event has at most once (RFC 5545 3.6.1)
_SINGLE_PROPERTIES = (
    "UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "URL", "LOCATION", "DESCRIPTION",
)
#: errors a series can raise while expanding (dateutil's rule parsing, naive/aware comparisons, year 9999)
_SERIES_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError, NotImplementedError)
_LINK = re.compile(r"https?://[^\s<>\"'\\]+", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence of a VEVENT: times in UTC, text as people read it."""

    uid: str
    key: str
    title: str
    url: str
    start: datetime
    end: datetime
    description: str


class CalendarEvents(list[CalendarEvent]):
    """The events of a calendar, with why each unreadable VEVENT or series was left out."""

    def __init__(self, events: Iterable[CalendarEvent] = (), skipped: Iterable[str] = ()) -> None:
        super().__init__(events)
        self.skipped: list[str] = list(skipped)


class SkippedSeries(Exception):
    """A series (one UID) that cannot be expanded; the message says why."""


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The span a feed is read over: a month back (recent contests stay visible) to a year ahead."""
    if now.tzinfo is None:
        raise ValueError(f"now {now.isoformat()} has no zone")
    return now - timedelta(days=31), now + timedelta(days=366)


def feed_contests(site: str, text: str | bytes, *, window: tuple[datetime, datetime],
                  default_url: str) -> list[Contest]:
    """The feed's events in the window as contests of `site` (an event without a link gets `default_url`)."""
    return [
        Contest(site, key=event.key, title=event.title, url=event.url or default_url, start=event.start,
                duration=int((event.end - event.start).total_seconds()))
        for event in calendar_events(text, window=window)
    ]


def calendar_events(text: str | bytes, *, window: tuple[datetime, datetime]) -> CalendarEvents:
    """Every occurrence of every VEVENT whose start lies in `window` (aware datetimes, end excluded)."""
    low, high = checked_window(window)
    calendar = read_calendar(text)
    readable, skipped = readable_vevents(calendar)
    standard, floating_problem = standardised(calendar, readable)
    events = CalendarEvents(skipped=skipped)
    seen: set[str] = set()
    for uid, components in series_by_uid(standard.walk("VEVENT")).items():
        try:
            found = series_events(uid, components, low, high, floating_problem)
        except SkippedSeries as reason:
            events.skipped.append(f"{uid!r}: {reason}")
            continue
        for event in found:
            if event.key in seen:
                events.skipped.append(f"{uid!r}: a second event with key {event.key!r}")
                continue
            if (event.end - event.start).total_seconds() > LONGEST_DURATION:
                events.skipped.append(f"{event.key!r}: lasts {(event.end - event.start).days} days")
                continue
            seen.add(event.key)
            events.append(event)
    if events.skipped:
        log.info("calendar: %d events or series could not be read and were skipped (first: %s)",
                 len(events.skipped), events.skipped[0])
    return events


def checked_window(window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    low, high = window
    if low.tzinfo is None or high.tzinfo is None or not low < high:
        raise ValueError(f"window {low!r}..{high!r} must be aware datetimes, the first before the second")
    return low.astimezone(UTC), high.astimezone(UTC)


def read_calendar(text: str | bytes) -> Component:
    """The VCALENDAR of `text`; anything else (an HTML page, JSON, nothing, a cut-off body) is a ParseError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig", errors="replace")
    text = text.removeprefix("\ufeff")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, AttributeError, TypeError, KeyError, IndexError) as error:  # icalendar on a broken VTIMEZONE
        raise ParseError(f"the answer is not a calendar ({str(error)[:100]}): {text[:80]!r}") from error
    if calendar.name != "VCALENDAR":
        raise ParseError(f"the answer is a {calendar.name}, not a calendar: {text[:80]!r}")
    scale = str(calendar.get("CALSCALE", "GREGORIAN")).upper()
    if scale != "GREGORIAN":
        raise ParseError(f"the calendar uses the {scale[:30]!r} calendar scale; only GREGORIAN is read")
    return calendar


def readable_vevents(calendar: Component) -> tuple[list[Component], list[str]]:
    """The VEVENTs that can be read, and why each other one cannot."""
    readable: list[Component] = []
    skipped: list[str] = []
    for component in calendar.walk("VEVENT"):
        try:
            problem = vevent_problem(component)
        except _SERIES_ERRORS as error:  # a value of an unexpected type (DTSTART;VALUE=PERIOD)
            problem = f"unreadable ({error!r:.100})"
        if problem is None:
            readable.append(component)
        else:
            skipped.append(f"{str(component.get('UID', '(no UID)'))[:80]!r}: {problem}")
    return readable, skipped


def vevent_problem(component: Component) -> str | None:
    """Why this VEVENT cannot be read, or None."""
    for name in ("UID", "DTSTART", "SUMMARY"):
        if not str(component.get(name, "")).strip():
            return f"no {name}"
    repeated = [name for name in _SINGLE_PROPERTIES if isinstance(component.get(name), list)]
    if repeated:
        return f"more than one {repeated[0]}"
    broken = [(name, message) for name, message in component.errors if name in _READ_PROPERTIES]
    if broken:
        name, message = broken[0]
        return f"broken {name or 'line'}: {str(message)[:100]}"
    return unknown_zone(component) or end_before_start(component)


def unknown_zone(component: Component) -> str | None:
    """A time with a TZID that neither zoneinfo nor the feed's VTIMEZONEs define (icalendar leaves it naive)."""
    for name in _TIME_PROPERTIES:
        for value in property_values(component, name):
            zone = value.params.get("TZID")
            if zone and any(isinstance(moment, datetime) and moment.tzinfo is None for moment in moments(value)):
                return f"{name} has the unknown time zone {str(zone)[:60]!r}"
    return None


def property_values(component: Component, name: str) -> list[Any]:
    value = component.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def moments(value: Any) -> list[Any]:
    """The dates and times of one time property value (EXDATE and RDATE hold lists, RDATE also periods)."""
    listed = getattr(value, "dts", None)
    found = [item.dt for item in listed] if listed is not None else [value.dt]
    return [moment[0] if isinstance(moment, tuple) else moment for moment in found]


def end_before_start(component: Component) -> str | None:
    start = utc_moment(component.decoded("DTSTART"))
    if "DTEND" in component and utc_moment(component.decoded("DTEND")) < start:
        return "DTEND is before DTSTART"
    if "DURATION" in component and component.decoded("DURATION") < timedelta(0):
        return "negative DURATION"
    return None


def standardised(calendar: Component, readable: list[Component]) -> tuple[Component, str | None]:
    """A calendar of the readable VEVENTs with X-WR-TIMEZONE applied, and why floating times cannot be read
    (None when they can: in X-WR-TIMEZONE, or in UTC when the calendar names no zone)."""
    clean = icalendar.Calendar()
    for name, value in calendar.items():
        clean[name] = value
    for component in readable:
        clean.add_component(component)
    zone = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    if not zone:
        return clean, None
    try:
        return x_wr_timezone.to_standard(clean), None
    except (ZoneInfoNotFoundError, ValueError, KeyError) as error:
        return clean, f"floating time in the unknown X-WR-TIMEZONE {zone[:60]!r} ({error!r:.60})"


def series_by_uid(components: Iterable[Component]) -> dict[str, list[Component]]:
    """VEVENTs grouped by UID (a recurring event and its overrides share one), in the feed's order."""
    series: dict[str, list[Component]] = {}
    for component in components:
        series.setdefault(str(component["UID"]), []).append(component)
    return series


def series_events(uid: str, components: list[Component], low: datetime, high: datetime,
                  floating_problem: str | None) -> list[CalendarEvent]:
    """The occurrences of one UID's series that start in [low, high)."""
    recurring = any(is_recurring(component) for component in components)
    try:
        if floating_problem and any(is_floating(component) for component in components):
            raise SkippedSeries(floating_problem)
        if recurring:
            check_steps(components, high)
        occurrences = expanded(components, low - _WINDOW_MARGIN, high + _WINDOW_MARGIN)
        events = [calendar_event(uid, occurrence, recurring) for occurrence in occurrences]
    except _SERIES_ERRORS as error:
        raise SkippedSeries(f"cannot be expanded ({error!r:.120})") from error
    return sorted((event for event in events if low <= event.start < high), key=lambda event: event.start)


def is_floating(component: Component) -> bool:
    start = component.decoded("DTSTART")
    return isinstance(start, datetime) and start.tzinfo is None


def is_recurring(component: Component) -> bool:
    return any(name in component for name in ("RRULE", "RDATE", "RECURRENCE-ID"))


def check_steps(components: list[Component], high: datetime) -> None:
    """Refuse a rule that dateutil would have to step through more than MAX_STEPS times to reach `high`."""
    for component in components:
        start = utc_moment(component.decoded("DTSTART"))
        for rule in property_values(component, "RRULE"):
            step = _STEP.get(str(rule.get("FREQ", [""])[0]).upper())
            if step is None:
                raise SkippedSeries(f"RRULE {rule.to_ical().decode()[:60]!r} has no known FREQ")
            interval = int(rule.get("INTERVAL", [1])[0])
            if interval < 1:  # dateutil would never advance
                raise SkippedSeries(f"RRULE {rule.to_ical().decode()[:60]!r} has INTERVAL {interval}")
            until = [utc_moment(moment) for moment in rule.get("UNTIL", [])]
            reach = min([high, *until])
            steps = (reach - start) / (step * interval)
            if steps > MAX_STEPS:
                raise SkippedSeries(f"RRULE {rule.to_ical().decode()[:60]!r} steps {steps:.0f} times before the window "
                                    f"ends (at most {MAX_STEPS})")


def expanded(components: list[Component], low: datetime, high: datetime) -> list[Component]:
    """The series' occurrences overlapping [low, high], each a VEVENT with its own DTSTART, DTEND and
    RECURRENCE-ID (recurring_ical_events); more than MAX_OCCURRENCES is refused."""
    series = recurring_ical_events.Series([recurring_ical_events.EventAdapter(component) for component in components])
    occurrences = list(islice(series.between(low, high), MAX_OCCURRENCES + 1))
    if len(occurrences) > MAX_OCCURRENCES:
        raise SkippedSeries(f"more than {MAX_OCCURRENCES} occurrences in the window")
    return [occurrence.as_component(False) for occurrence in occurrences]


def calendar_event(uid: str, occurrence: Component, recurring: bool) -> CalendarEvent:
    start = utc_moment(occurrence.decoded("DTSTART"))
    end = utc_moment(occurrence.decoded("DTEND")) if "DTEND" in occurrence else start
    key = f"{uid}@{ical_utc(utc_moment(occurrence.decoded('RECURRENCE-ID')))}" if recurring else uid
    return CalendarEvent(
        uid=uid, key=bounded_key(key), title=" ".join(str(occurrence["SUMMARY"]).split()),
        url=event_url(occurrence), start=start, end=max(end, start),
        description=plain_text(str(occurrence.get("DESCRIPTION", ""))),
    )


def utc_moment(moment: date | datetime) -> datetime:
    """A DATE is 00:00 UTC that day; a floating time is UTC; an aware time is converted."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(), UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def ical_utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def bounded_key(key: str) -> str:
    """`key`, or when longer than MAX_KEY_LENGTH its first characters and `~` and the sha1 of all of it."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    return f"{key[:MAX_KEY_LENGTH - len(digest) - 1]}~{digest}"


def event_url(component: Component) -> str:
    """The URL property, else the first http(s) link in LOCATION, else in DESCRIPTION, else "" (links longer
    than the database keeps are passed over)."""
    for name in ("URL", "LOCATION", "DESCRIPTION"):
        for link in links(str(component.get(name, ""))):
            target = unwrapped(link)
            if len(target) <= LONGEST_URL:  # a longer one does not fit the database: the next link, if any
                return target
    return ""


def links(text: str) -> Iterator[str]:
    """The http(s) addresses with a host in `text` (HTML entities decoded, trailing punctuation dropped)."""
    for match in _LINK.finditer(text):
        link = html.unescape(match.group()).rstrip(_TRAILING_PUNCTUATION)
        if urlsplit(link).hostname:
            yield link


def unwrapped(link: str) -> str:
    """The target of a Google redirect link (`https://www.google.com/url?q=TARGET&sa=…`), else the link."""
    parts = urlsplit(link)
    if parts.hostname in ("google.com", "www.google.com") and parts.path == "/url":
        target = parse_qs(parts.query).get("q", [""])[0]
        if urlsplit(target).scheme in ("http", "https") and urlsplit(target).hostname:
            return target
    return link


def plain_text(description: str) -> str:
    """The description as text: HTML (HackerRank's descriptions are HTML) reduced to its words."""
    if _HTML_TAG.search(description):
        description = LexborHTMLParser(description).text(separator="\n")
    lines = (" ".join(line.split()) for line in description.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
