"""Email digests: when each account's digest is due, which contests it covers, and the email itself (a card per
contest under its local day).

A digest is daily or weekly (on one weekday), at a wall-clock time in the account's zone. Everything here works
in UTC and meets the zone only to find the due moment and to show the contests.

When a digest is due, also across daylight-saving changes: at the first moment the local clock shows its time
or later.
- a time that happens once: then;
- a time that does not happen (spring forward: 02:30 on the day clocks jump from 02:00 to 03:00): when the gap
  ends, at 03:00 (not 03:30);
- a time that happens twice (fall back: 01:30 on the day clocks go from 02:00 back to 01:00): the first time only.
So every local day (every week, for weekly) has exactly one due moment, and its period ("daily:2026-03-29") is the
local date of that day: the sent-log claims a digest per (address, period).

Settings come from people (`parse_digest`: "daily 08:00", "weekly mon 18:30", "off") and from the database
(`DigestSchedule.from_account`): both are hostile, neither raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.message import EmailMessage
from enum import StrEnum
from functools import lru_cache
from itertools import groupby
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from notify.email import Mailbox, card_labels, message_of, times_note
from notify.formatting import day_name
from notify.i18n import N_, languages, ngettext, speaking
from notify.ical import contests_calendar
from notify.letters import CARD_CLOCK, Footer, Letter, Section, contest_card
from notify.messages import ContestInfo, Locale
from notify.zones import zone_of

MINUTES_PER_DAY = 24 * 60
#: longer input is refused before it is looked at ("weekly wednesday 23:59" has 22 characters)
MAX_DIGEST_INPUT = 64
DIGEST_UNSUBSCRIBE_PATH = "/email/digest-unsubscribe/{token}"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


#: how far apart two due moments are, on the local calendar, and how long a digest's window is
_STEP = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """A digest at `minute` minutes after local midnight: every day, or every week on `weekday` (0 = Monday).

    `str()` gives it as typed: "daily 08:00", "weekly mon 18:30" (what `parse_digest` reads back)."""

    frequency: Frequency
    minute: int
    weekday: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequency", Frequency(self.frequency))  # "daily" -> Frequency.DAILY
        if not _is_int(self.minute) or not 0 <= self.minute < MINUTES_PER_DAY:
            raise ValueError(f"a digest's minute is 0..1439, not {self.minute!r}")
        if self.frequency is Frequency.WEEKLY:
            if not _is_int(self.weekday) or not 0 <= self.weekday <= 6:
                raise ValueError(f"a weekly digest's weekday is 0..6, not {self.weekday!r}")
        elif self.weekday is not None:
            raise ValueError("a daily digest has no weekday")

    @classmethod
    def from_account(cls, row: Any) -> DigestSchedule | None:
        """The schedule stored on an account (a row, or a mapping from `.values()`), or None when the digest is off
        or the stored values make no schedule. Never raises: one bad row must not stop the others. A weekday left
        on a daily digest (from an earlier weekly one) is ignored."""
        try:
            if isinstance(row, Mapping):
                frequency, minute, weekday = (row.get(name) for name in ("digest", "digest_minute", "digest_weekday"))
            else:
                frequency, minute, weekday = (getattr(row, name, None)
                                              for name in ("digest", "digest_minute", "digest_weekday"))
            if frequency is None:
                return None
            if frequency == Frequency.DAILY:
                weekday = None
            return cls(Frequency(frequency), minute, weekday)
        except (ValueError, TypeError, AttributeError):
            return None

    @property
    def time(self) -> str:
        """'08:05'"""
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    def __str__(self) -> str:
        if self.weekday is None:
            return f"{self.frequency} {self.time}"
        return f"{self.frequency} {_DAY_ABBREVIATIONS[self.weekday]} {self.time}"


@dataclass(frozen=True, slots=True)
class Off:
    """What `parse_digest` answers for "off": no digest."""

    def __str__(self) -> str:
        return "off"


OFF = Off()


class DigestError(StrEnum):
    """Why `parse_digest` refused a text; `explain()` says it to a person."""

    EMPTY = "empty"  # nothing typed: a bot may show the current setting instead
    TOO_LONG = "too_long"
    CONTROL_CHARACTERS = "control_characters"
    UNKNOWN_FREQUENCY = "unknown_frequency"  # the first word is not daily, weekly or off
    MISSING_TIME = "missing_time"
    BAD_TIME = "bad_time"  # not H:MM / HH:MM on a 24-hour clock
    MISSING_DAY = "missing_day"  # weekly without a day
    BAD_DAY = "bad_day"
    TOO_MANY_WORDS = "too_many_words"


_DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name: weekday for names in (_DAY_ABBREVIATIONS, _DAY_NAMES) for weekday, name in enumerate(names)}
#: ASCII digits only (`\d` would take "٠٨:٠٠")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
#: control, format (zero-width, bidi overrides), surrogate, private-use and unassigned characters
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _word(text: str) -> str:
    """A keyword as compared: lower case, ASCII only (no Unicode look-alike folds into a keyword)."""
    return text.lower() if text.isascii() else ""


def _minute(text: str) -> int | None:
    match = _TIME.fullmatch(text)
    return int(match[1]) * 60 + int(match[2]) if match else None


def parse_digest(text: str) -> DigestSchedule | Off | DigestError:
    """What a person typed: `daily HH:MM`, `weekly DAY HH:MM` (DAY: mon..sun or monday..sunday; the day and the
    time in either order), or `off`. Any case, any spacing, `H:MM` too, 24-hour clock. Anything else is a
    `DigestError`, never an exception."""
    if len(text) > MAX_DIGEST_INPUT:
        return DigestError.TOO_LONG
    text = text.strip()  # a line break after the text is no control character inside it
    if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in text):
        return DigestError.CONTROL_CHARACTERS
    words = text.split()
    if not words:
        return DigestError.EMPTY
    head, *rest = words
    kind = _word(head)
    if kind == "off":
        return OFF if not rest else DigestError.TOO_MANY_WORDS
    if kind == Frequency.DAILY:
        if not rest:
            return DigestError.MISSING_TIME
        if len(rest) > 1:
            return DigestError.TOO_MANY_WORDS
        minute = _minute(rest[0])
        return DigestError.BAD_TIME if minute is None else DigestSchedule(Frequency.DAILY, minute)
    if kind == Frequency.WEEKLY:
        if len(rest) > 2:
            return DigestError.TOO_MANY_WORDS
        weekday = minute = None
        for word in rest:
            if _word(word) in _DAYS:
                if weekday is not None:
                    return DigestError.TOO_MANY_WORDS
                weekday = _DAYS[_word(word)]
            elif (at := _minute(word)) is not None:
                if minute is not None:
                    return DigestError.TOO_MANY_WORDS
                minute = at
            else:  # "25:00", "8am" were meant as a time; "funday" as a day
                return DigestError.BAD_TIME if any(c in "0123456789:" for c in word) else DigestError.BAD_DAY
        if weekday is None:
            return DigestError.MISSING_DAY
        if minute is None:
            return DigestError.MISSING_TIME
        return DigestSchedule(Frequency.WEEKLY, minute, weekday)
    return DigestError.UNKNOWN_FREQUENCY


_PROBLEMS = {
    DigestError.EMPTY: N_("Say when the digest should come."),
    DigestError.TOO_LONG: N_("That is too long for a digest setting."),
    DigestError.CONTROL_CHARACTERS: N_("That has characters a digest setting cannot have."),
    DigestError.UNKNOWN_FREQUENCY: N_("A digest is daily, weekly or off."),
    DigestError.MISSING_TIME: N_("Add the time, like 08:00."),
    DigestError.BAD_TIME: N_("The time is HH:MM on a 24-hour clock, from 00:00 to 23:59."),
    DigestError.MISSING_DAY: N_("A weekly digest needs a day: mon, tue, wed, thu, fri, sat or sun."),
    DigestError.BAD_DAY: N_("Unknown day: use mon, tue, wed, thu, fri, sat or sun."),
    DigestError.TOO_MANY_WORDS: N_("Too many words."),
}


def explain(error: DigestError) -> str:
    """What went wrong and what works, in the language of the gettext context in force."""
    return " ".join((_(_PROBLEMS[error]), _("For example: daily 08:00, weekly mon 18:30, or off.")))


def account_fields(setting: DigestSchedule | Off) -> dict[str, Any]:
    """The Account columns that store a setting (`Account.filter(...).update(**account_fields(s))`)."""
    if isinstance(setting, Off):
        return {"digest": None, "digest_minute": None, "digest_weekday": None}
    return {"digest": str(setting.frequency), "digest_minute": setting.minute, "digest_weekday": setting.weekday}


# when


@lru_cache(maxsize=4096)
def _zone(name: str) -> tzinfo:
    """The zone of a stored name (UTC for a name that is none: stored values are hostile too), looked up once."""
    try:
        return zone_of(name)
    except Exception:  # a name zone_of has no answer for (not a string...): the account is not worth a crash
        return ZoneInfo("UTC")


def _wall_clock(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _moment(zone: tzinfo, day: date, minute: int) -> datetime:
    """The first moment (UTC) at which the local clock shows `day` at `minute` or later."""
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    due = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: an ambiguous time's first occurrence
    if _wall_clock(due, zone) == wall:
        return due
    return _end_of_gap(zone, wall, due)


def _end_of_gap(zone: tzinfo, wall: datetime, after_gap: datetime) -> datetime:
    """`wall` falls in a gap (clocks jumped over it): the moment the gap ends, found by bisection between a moment
    before the gap (fold=1 reads the time with the offset after the jump) and one after it (fold=0, before)."""
    before = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    after = int(after_gap.timestamp())
    if not (before < after and _wall_clock(datetime.fromtimestamp(before, UTC), zone) < wall):
        return after_gap  # a tzinfo that does not answer fold like zoneinfo: late rather than never
    while after - before > 1:  # transitions fall on whole seconds
        middle = (before + after) // 2
        if _wall_clock(datetime.fromtimestamp(middle, UTC), zone) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _check_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError(f"a moment without a zone: {moment!r} (UTC expected)")


def due_after(schedule: DigestSchedule, zone_name: str, after: datetime) -> datetime:
    """The first moment strictly after `after` when the digest is due, in UTC: its local time in `zone_name` (an
    IANA name or "UTC+03:00"; UTC for a name that is none), on its weekday when weekly. See the module's doc for
    daylight-saving changes. A few microseconds a call (the zones are looked up once)."""
    _check_aware(after)
    zone = _zone(zone_name)
    day = after.astimezone(zone).date()
    if schedule.weekday is not None:
        day += timedelta(days=(schedule.weekday - day.weekday()) % 7)
    step = _STEP[schedule.frequency]
    while True:  # an earlier day's moment is never later than `after`; this day's or the next one's is
        due = _moment(zone, day, schedule.minute)
        if due > after:
            return due
        day += step


def _slot_day(schedule: DigestSchedule, zone: tzinfo, due: datetime) -> date:
    """The local day whose digest is due at `due`: the local date of `due`, or the day before when the day's time
    fell in a gap that ended after midnight."""
    local = due.astimezone(zone).date()
    for day in (local, local - timedelta(days=1), local - timedelta(days=2)):
        if (schedule.weekday is None or day.weekday() == schedule.weekday) and \
                _moment(zone, day, schedule.minute) == due:
            return day
    return local  # not a due moment of this schedule: its local date still names one period


def period_of(schedule: DigestSchedule, due: datetime, zone_name: str) -> str:
    """The sent-log key of the digest due at `due`: "daily:2026-03-29", "weekly:2026-03-23": the local date it is
    sent on (or, should a gap that swallowed its time end after midnight, the date it was for). One key per due
    moment: consecutive `due_after` answers have consecutive keys."""
    _check_aware(due)
    return f"{schedule.frequency}:{_slot_day(schedule, _zone(zone_name), due).isoformat()}"


def window_of(schedule: DigestSchedule, due: datetime, zone_name: str | None = None) -> tuple[datetime, datetime]:
    """The contests a digest lists: those starting in [due, end). Without a zone, end is 24 hours (7 days) after
    `due`. With the account's zone, end is the next due moment, so consecutive digests cover every moment once:
    on a day the clocks go back the next digest is 25 hours away, and a contest in that extra hour would be in
    neither fixed window (on a day they go forward, in both)."""
    _check_aware(due)
    due = due.astimezone(UTC)
    if zone_name is None:
        return due, due + _STEP[schedule.frequency]
    return due, due_after(schedule, zone_name, due)


# the email


def digest_unsubscribe_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + DIGEST_UNSUBSCRIBE_PATH.format(token=quote(token, safe=""))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _days(contests: Sequence[ContestInfo], zone: tzinfo, language: str, now: datetime) -> tuple[Section, ...]:
    """A section per local day, headed by its weekday and date, with the day's contests by start."""
    ordered = sorted(contests, key=lambda contest: (contest.start, contest.title, contest.site, contest.key))
    open_label = _("Open the contest")
    return tuple(
        Section(tuple(contest_card(contest, zone, language, now, open_label, pattern=CARD_CLOCK) for contest in group),
                _capitalized(format_date(day, "EEEE, d MMMM", locale=language)))
        for day, group in groupby(ordered, key=lambda contest: contest.start.astimezone(zone).date()))


def digest_email(i18n: I18n, locale: Locale, to: Mailbox, contests: Sequence[ContestInfo], schedule: DigestSchedule,
                 due: datetime, *, from_address: str, base_url: str, now: datetime) -> EmailMessage:
    """One digest: a card per contest under its local day in the account's zone and language, all of them as one
    .ics (the same UIDs as the feeds), and a one-click link that stops digests only (reminders by email are
    separate). An empty digest is not sent: no contests is a ValueError."""
    if not contests:
        raise ValueError("a digest needs at least one contest")
    if not to.token:
        raise ValueError(f"{to.address} has no token for its unsubscribe link")
    zone = zone_of(locale.timezone)
    language = locale.language if locale.language in languages(i18n) else i18n.default_locale
    local_due = format_date(due.astimezone(zone).date(), "EEEE, d MMMM", locale=language)
    count = len(contests)
    with speaking(i18n, language):
        if schedule.frequency is Frequency.WEEKLY:
            subject = ngettext("{n} contest in the next 7 days", "{n} contests in the next 7 days", count)
            heading = _("Weekly contest digest, {date}").format(date=local_due)
            when = _("This digest comes every week on {weekday} at {time}.").format(
                weekday=day_name(schedule.weekday or 0, language), time=schedule.time)
        else:
            subject = ngettext("{n} contest in the next 24 hours", "{n} contests in the next 24 hours", count)
            heading = _("Daily contest digest, {date}").format(date=local_due)
            when = _("This digest comes every day at {time}.").format(time=schedule.time)
        footer = Footer((when, _("Email reminders are separate: the link below stops only the digests.")),
                        _("Stop digests"), digest_unsubscribe_link(base_url, to.token))
        letter = Letter(language, subject.format(n=count), heading, intro=(times_note(zone, language, now),),
                        sections=_days(contests, zone, language, now), footer=footer, labels=card_labels())
        return message_of(letter, to, from_address=from_address, now=now, calendar=contests_calendar(contests, now),
                          calendar_name="contests.ics")
