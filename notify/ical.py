"""iCalendar (RFC 5545) files of contests: the .ics in emails, the feeds calendar apps subscribe to, and
single-event downloads, all written with the icalendar library.

Every file gives a contest the same UID (its site and the site's own key), so a calendar app that has the event
moves or cancels it instead of adding another. DTSTAMP is the moment the event was last revised and SEQUENCE
counts the seconds from 2024 to it, so a later version always supersedes an earlier one: an email's event is
revised when the email is written; a feed's event when ingest last noticed a change to the contest. A feed
therefore stays byte-identical (and keeps its ETag) until one of its contests changes.

An email's events carry an alarm (VALARM, DISPLAY) that rings before the start; feeds and downloads carry none:
a subscribed calendar's alarms are the person's to choose.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote, urlsplit

from icalendar import Alarm, Calendar, Event, vDuration
from icalendar.enums import STATUS

from notify.messages import ContestInfo

PRODID = "-//contestbell//contest reminders//EN"
#: SEQUENCE counts seconds from here to the event's revision, so a later version supersedes an earlier one
#: (a 32-bit integer, as RFC 5545 has it, lasts until 2092)
SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
#: how often subscribed calendar apps should fetch a feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL)
FEED_REFRESH = timedelta(hours=1)
#: when an email's event rings, unless the email says otherwise
DEFAULT_ALARM = timedelta(minutes=15)
_END = b"END:VCALENDAR\r\n"
#: longest name of an email's .ics, without ".ics"
MOST_FILENAME = 60


@dataclass(frozen=True, slots=True)
class Revised:
    """A contest as of its last revision: when it was added or ingest last noticed it change."""

    contest: ContestInfo
    at: datetime
    cancelled: bool = False


def contest_uid(contest: ContestInfo) -> str:
    """The same UID in every file about a contest: calendars then move or cancel the event they have."""
    return f"contest-{quote(contest.site, safe='')}-{quote(contest.key, safe='')}@contestbell"


def sequence_at(revised: datetime) -> int:
    return max(0, int((revised - SEQUENCE_EPOCH).total_seconds()))


def contest_event(entry: Revised) -> Event:
    """One VEVENT, times in UTC. The contest's link is offered only when it is http(s) (it comes from a site)."""
    contest = entry.contest
    start = contest.start.astimezone(UTC)
    end = start + timedelta(seconds=contest.duration) if contest.duration > 0 else None
    revised = entry.at.astimezone(UTC).replace(microsecond=0)
    link = contest.url if urlsplit(contest.url).scheme in ("http", "https") else None
    return Event.new(uid=contest_uid(contest), start=start, end=end, summary=contest.title, url=link,
                     description=f"{contest.site_label}\n{link}" if link else contest.site_label,
                     stamp=revised, last_modified=revised, sequence=sequence_at(revised),
                     status=STATUS.CANCELLED if entry.cancelled else STATUS.CONFIRMED)


def alarm(before: timedelta, title: str) -> Alarm:
    """A reminder on screen `before` the start (RFC 5545: a DISPLAY alarm needs its DESCRIPTION)."""
    reminder = Alarm.new(description=title)
    reminder.add("ACTION", "DISPLAY")
    reminder.add("TRIGGER", -before)
    return reminder


def contests_calendar(contests: Sequence[ContestInfo], now: datetime, *, cancelled: bool = False,
                      alarm_before: timedelta | None = DEFAULT_ALARM) -> bytes:
    """The .ics an email carries (METHOD:PUBLISH), its events revised `now`, each with an alarm `alarm_before`
    its start (none for a cancelled contest, nor with None)."""
    events = []
    for contest in contests:
        event = contest_event(Revised(contest, now, cancelled))
        if alarm_before is not None and not cancelled:
            event.add_component(alarm(alarm_before, contest.title))
        events.append(event)
    return Calendar.new(prodid=PRODID, method="PUBLISH", subcomponents=events).to_ical()


def calendar_filename(contests: Sequence[ContestInfo]) -> str:
    """'Codeforces-Round-999-Div-2.ics' for one contest (accents folded, other scripts kept: the email package
    writes a non-ASCII name as RFC 2231 `filename*`); 'contests.ics' for several or a title with no letters."""
    if len(contests) != 1:
        return "contests.ics"
    folded = "".join(c for c in unicodedata.normalize("NFKD", contests[0].title) if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in folded).split()
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > MOST_FILENAME:
            break
        name = f"{name}-{word}" if name else word
    return f"{name or (words[0][:MOST_FILENAME] if words else 'contest')}.ics"


def event_file(entry: Revised) -> bytes:
    """One contest to download and import (METHOD:PUBLISH); the same bytes until the contest changes."""
    return Calendar.new(prodid=PRODID, method="PUBLISH", uid=contest_uid(entry.contest) + "-file",
                        subcomponents=[contest_event(entry)]).to_ical()


def feed_calendar(entries: Sequence[Revised], *, uid: str, name: str, description: str) -> bytes:
    """A calendar to subscribe to. Without METHOD, RFC 5545 makes DTSTAMP the moment the event was last revised
    in the store, which is what keeps the bytes the same between requests; `uid` names the feed for good.

    The same bytes as `Calendar.to_ical()` with the events as subcomponents (a component writes its properties,
    then each subcomponent, then END), but each event is written once per revision and then reused: icalendar
    takes about 0.4 ms per event, 2 s for a feed of 5,000 contests."""
    calendar = Calendar.new(prodid=PRODID, uid=uid, name=name, description=description, refresh_interval=FEED_REFRESH)
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"  # RFC 7986 requires the parameter
    calendar.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    head = calendar.to_ical()
    if not head.endswith(_END):
        raise RuntimeError("icalendar no longer ends a calendar with END:VCALENDAR and a line break")
    return head[:-len(_END)] + b"".join(event_bytes(entry) for entry in entries) + _END


@lru_cache(maxsize=20_000)
def event_bytes(entry: Revised) -> bytes:
    """A VEVENT as icalendar writes it; an entry is immutable, so its bytes never change (about 400 bytes)."""
    return contest_event(entry).to_ical()
