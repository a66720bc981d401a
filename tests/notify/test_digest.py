"""Digests: the settings people type and the database holds (hostile both), when each digest is due across
daylight-saving changes (a time in a gap goes out when the gap ends, an ambiguous time at its first occurrence,
every local day or week exactly once), which contests it covers, and the email (contests by local day, escaped,
one .ics with the feeds' UIDs, a plain one-click header that stops digests only)."""

from __future__ import annotations

import email.policy
import time
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from notify.digest import (
    DIGEST_UNSUBSCRIBE_PATH,
    OFF,
    DigestError,
    DigestSchedule,
    Frequency,
    Off,
    account_fields,
    digest_email,
    digest_unsubscribe_link,
    due_after,
    explain,
    parse_digest,
    period_of,
    window_of,
)
from notify.i18n import make_i18n, speaking
from notify.ical import contest_uid
from notify.messages import ContestInfo, Locale
from tests.notify.test_email import (
    BASE_URL,
    FROM,
    REAL_TOKEN,
    TOKEN,
    deliver,
    inbox,  # noqa: F401 (a fixture)
    parts,
    raw_headers,
    unfolded,
)

DAILY, WEEKLY = Frequency.DAILY, Frequency.WEEKLY
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# what people type


@pytest.mark.parametrize(("text", "expected"), [
    ("daily 08:00", DigestSchedule(DAILY, at(8))),
    ("daily 8:00", DigestSchedule(DAILY, at(8))),
    ("  DAILY   0:05 ", DigestSchedule(DAILY, at(0, 5))),
    ("Daily 23:59", DigestSchedule(DAILY, at(23, 59))),
    ("daily 00:00", DigestSchedule(DAILY, 0)),
    ("weekly mon 18:30", DigestSchedule(WEEKLY, at(18, 30), MON)),
    ("weekly Sunday 7:15", DigestSchedule(WEEKLY, at(7, 15), SUN)),
    ("WEEKLY WED 12:00", DigestSchedule(WEEKLY, at(12), WED)),
    ("weekly thursday 23:59", DigestSchedule(WEEKLY, at(23, 59), THU)),
    ("weekly 09:00 fri", DigestSchedule(WEEKLY, at(9), FRI)),  # the day and the time in either order
    ("weekly\u00a0sat\u00a006:00", DigestSchedule(WEEKLY, at(6), SAT)),  # a no-break space separates too
    ("daily 08:00\n", DigestSchedule(DAILY, at(8))),  # a line break after it is whitespace, not content
    ("off", OFF),
    (" OFF ", OFF),
    ("", DigestError.EMPTY),
    ("   ", DigestError.EMPTY),
    ("daily", DigestError.MISSING_TIME),
    ("daily 24:00", DigestError.BAD_TIME),
    ("daily 8", DigestError.BAD_TIME),
    ("daily 800", DigestError.BAD_TIME),
    ("daily 8:0", DigestError.BAD_TIME),
    ("daily 08:60", DigestError.BAD_TIME),
    ("daily 08:00:00", DigestError.BAD_TIME),
    ("daily 8am", DigestError.BAD_TIME),
    ("daily -1:00", DigestError.BAD_TIME),
    ("daily ٠٨:٠٠", DigestError.BAD_TIME),  # Arabic-Indic digits are digits to `\d`, not to us
    ("daily ０８:００", DigestError.BAD_TIME),  # fullwidth
    ("daily mon", DigestError.BAD_TIME),
    ("daily 08:00 mon", DigestError.TOO_MANY_WORDS),
    ("weekly", DigestError.MISSING_DAY),
    ("weekly 08:00", DigestError.MISSING_DAY),
    ("weekly mon", DigestError.MISSING_TIME),
    ("weekly funday 08:00", DigestError.BAD_DAY),
    ("weekly mo 08:00", DigestError.BAD_DAY),
    ("weekly mon 25:00", DigestError.BAD_TIME),
    ("weekly mon tue 08:00", DigestError.TOO_MANY_WORDS),
    ("weekly mon 08:00 09:00", DigestError.TOO_MANY_WORDS),
    ("weekly mon mon", DigestError.TOO_MANY_WORDS),
    ("off now", DigestError.TOO_MANY_WORDS),
    ("monthly 08:00", DigestError.UNKNOWN_FREQUENCY),
    ("08:00", DigestError.UNKNOWN_FREQUENCY),
    ("ｄａｉｌｙ 08:00", DigestError.UNKNOWN_FREQUENCY),  # no Unicode look-alike folds into a keyword
    ("weekly ſun 08:00", DigestError.BAD_DAY),  # long s: "ſun".casefold() == "sun"
    ("daily\t08:00", DigestError.CONTROL_CHARACTERS),
    ("daily 08:00\x00", DigestError.CONTROL_CHARACTERS),
    ("daily\u200b08:00", DigestError.CONTROL_CHARACTERS),  # zero-width space
    ("daily 08:00\u202e", DigestError.CONTROL_CHARACTERS),  # right-to-left override
    ("daily \ud800", DigestError.CONTROL_CHARACTERS),  # a lone surrogate
    ("daily 08:00" + " " * 60, DigestError.TOO_LONG),
    ("daily " + "0" * 10_000 + "8:00", DigestError.TOO_LONG),
])
def test_parse_digest(text, expected):
    assert parse_digest(text) == expected


def test_every_schedule_reads_back_from_its_text():
    schedules = [DigestSchedule(DAILY, minute) for minute in range(1440)]
    schedules += [DigestSchedule(WEEKLY, minute, day) for minute in range(0, 1440, 7) for day in range(7)]
    for schedule in schedules:
        assert parse_digest(str(schedule)) == schedule
    assert str(DigestSchedule(WEEKLY, at(18, 5), SUN)) == "weekly sun 18:05"
    assert parse_digest(str(OFF)) == OFF and isinstance(OFF, Off)


def test_every_error_is_explained_in_the_language_of_the_context():
    i18n = make_i18n()
    with speaking(i18n, "en"):
        for error in DigestError:
            text = explain(error)
            assert text.endswith("For example: daily 08:00, weekly mon 18:30, or off."), error
            assert len(text) > 60 and "{" not in text


@pytest.mark.parametrize(("arguments", "problem"), [
    (("daily", -1), "minute"), (("daily", 1440), "minute"), (("daily", 8.5), "minute"), (("daily", True), "minute"),
    (("daily", "480"), "minute"), (("daily", 480, MON), "no weekday"), (("weekly", 480), "weekday"),
    (("weekly", 480, 7), "weekday"), (("weekly", 480, -1), "weekday"), (("weekly", 480, "mon"), "weekday"),
    (("hourly", 480), "hourly"),
])
def test_a_schedule_is_checked_when_made(arguments, problem):
    with pytest.raises(ValueError, match=problem):
        DigestSchedule(*arguments)


@pytest.mark.parametrize(("digest", "minute", "weekday", "expected"), [
    ("daily", 480, None, DigestSchedule(DAILY, 480)),
    ("daily", 480, 3, DigestSchedule(DAILY, 480)),  # a weekday left from an earlier weekly digest
    ("weekly", 0, SUN, DigestSchedule(WEEKLY, 0, SUN)),
    (None, 480, MON, None),
    (None, None, None, None),
    ("daily", None, None, None),
    ("daily", 1440, None, None),
    ("daily", -32768, None, None),
    ("weekly", 480, None, None),
    ("weekly", 480, 7, None),
    ("weekly", 480, -1, None),
    ("Daily", 480, None, None),
    ("", 480, None, None),
    ("monthly", 480, None, None),
    ("daily", "480", None, None),
    ("daily", 480.0, None, None),
    ("daily", True, None, None),
    (["daily"], 480, None, None),
    (b"daily", 480, None, None),
])
def test_a_stored_schedule_that_makes_no_sense_is_none_never_an_error(digest, minute, weekday, expected):
    row = SimpleNamespace(digest=digest, digest_minute=minute, digest_weekday=weekday)
    assert DigestSchedule.from_account(row) == expected
    values = {"digest": digest, "digest_minute": minute, "digest_weekday": weekday}  # a `.values()` row
    assert DigestSchedule.from_account(values) == expected
    assert DigestSchedule.from_account(object()) is None and DigestSchedule.from_account({}) is None


def test_a_setting_is_stored_as_the_account_columns_and_read_back():
    for setting in (DigestSchedule(DAILY, 75), DigestSchedule(WEEKLY, 1439, SAT)):
        assert DigestSchedule.from_account(account_fields(setting)) == setting
    assert account_fields(OFF) == {"digest": None, "digest_minute": None, "digest_weekday": None}
    assert DigestSchedule.from_account(account_fields(OFF)) is None


# when digests are due


@pytest.mark.parametrize(("zone", "schedule", "after", "expected"), [
    # ordinary days: the local time, in UTC
    ("Europe/Berlin", DigestSchedule(DAILY, at(8)), utc(2026, 3, 27, 12), utc(2026, 3, 28, 7)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(8)), utc(2026, 3, 28, 6, 59), utc(2026, 3, 28, 7)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(8)), utc(2026, 3, 28, 7), utc(2026, 3, 29, 6)),  # strictly after
    ("Europe/Berlin", DigestSchedule(DAILY, at(8)), utc(2026, 7, 1, 5), utc(2026, 7, 1, 6)),  # summer: UTC+2
    ("Europe/Berlin", DigestSchedule(DAILY, at(0, 30)), utc(2026, 7, 1, 22), utc(2026, 7, 1, 22, 30)),  # next day
    ("America/New_York", DigestSchedule(DAILY, at(8)), utc(2026, 1, 10), utc(2026, 1, 10, 13)),
    ("America/New_York", DigestSchedule(DAILY, at(23, 30)), utc(2026, 7, 1, 12), utc(2026, 7, 2, 3, 30)),
    ("Asia/Kolkata", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 2, 30)),
    ("Asia/Kolkata", DigestSchedule(DAILY, at(2)), utc(2026, 3, 29), utc(2026, 3, 29, 20, 30)),
    ("UTC+03:00", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 5)),
    ("UTC-04:30", DigestSchedule(DAILY, at(22)), utc(2026, 3, 29, 12), utc(2026, 3, 30, 2, 30)),
    ("UTC", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29, 8), utc(2026, 3, 30, 8)),
    ("Mars/Olympus_Mons", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 8)),  # unknown: UTC
    ("../../etc/passwd", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 8)),
    ("Europe/Berlin\x00", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 8)),
    ("", DigestSchedule(DAILY, at(8)), utc(2026, 3, 29), utc(2026, 3, 29, 8)),
    # spring forward: a time in the gap goes out when the gap ends (03:00 local), not an hour into summer time
    ("Europe/Berlin", DigestSchedule(DAILY, at(2, 30)), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(2)), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(3)), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),  # the gap's end
    ("Europe/Berlin", DigestSchedule(DAILY, at(1, 59)), utc(2026, 3, 28, 12), utc(2026, 3, 29, 0, 59)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(2, 30)), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)),
    ("America/New_York", DigestSchedule(DAILY, at(2, 30)), utc(2026, 3, 7, 12), utc(2026, 3, 8, 7)),
    ("America/New_York", DigestSchedule(DAILY, at(2, 30)), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)),
    ("Australia/Lord_Howe", DigestSchedule(DAILY, at(2, 15)), utc(2026, 10, 3), utc(2026, 10, 3, 15, 30)),  # 30 min
    # fall back: a time that happens twice goes out the first time, once
    ("Europe/Berlin", DigestSchedule(DAILY, at(2, 30)), utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(2, 30)), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
    ("Europe/Berlin", DigestSchedule(DAILY, at(2, 30)), utc(2026, 10, 25, 1, 15), utc(2026, 10, 26, 1, 30)),
    ("America/New_York", DigestSchedule(DAILY, at(1, 30)), utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30)),
    ("America/New_York", DigestSchedule(DAILY, at(1, 30)), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)),
    ("America/New_York", DigestSchedule(DAILY, at(1, 30)), utc(2026, 11, 1, 6), utc(2026, 11, 2, 6, 30)),
    ("Australia/Lord_Howe", DigestSchedule(DAILY, at(1, 45)), utc(2026, 4, 4), utc(2026, 4, 4, 14, 45)),
    ("Australia/Lord_Howe", DigestSchedule(DAILY, at(1, 45)), utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)),
    # weekly: on its weekday (29 Mar 2026 is a Sunday)
    ("Europe/Berlin", DigestSchedule(WEEKLY, at(8), MON), utc(2026, 3, 25, 12), utc(2026, 3, 30, 6)),
    ("Europe/Berlin", DigestSchedule(WEEKLY, at(8), MON), utc(2026, 3, 30, 6), utc(2026, 4, 6, 6)),
    ("Europe/Berlin", DigestSchedule(WEEKLY, at(8), MON), utc(2026, 3, 30, 5, 59), utc(2026, 3, 30, 6)),
    ("Europe/Berlin", DigestSchedule(WEEKLY, at(2, 30), SUN), utc(2026, 3, 23), utc(2026, 3, 29, 1)),
    ("America/New_York", DigestSchedule(WEEKLY, at(1, 30), SUN), utc(2026, 10, 26), utc(2026, 11, 1, 5, 30)),
    ("America/New_York", DigestSchedule(WEEKLY, at(1, 30), SUN), utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)),
    ("Asia/Kolkata", DigestSchedule(WEEKLY, at(0, 15), SAT), utc(2026, 3, 27, 18, 44), utc(2026, 3, 27, 18, 45)),
    ("Asia/Kolkata", DigestSchedule(WEEKLY, at(23, 59), FRI), utc(2026, 3, 27, 18, 29), utc(2026, 4, 3, 18, 29)),
])
def test_due_after(zone, schedule, after, expected):
    due = due_after(schedule, zone, after)
    assert due == expected and due.tzinfo is UTC
    assert due_after(schedule, zone, after.astimezone(ZoneInfo("Asia/Tokyo"))) == expected  # any zone in


def test_due_after_wants_an_aware_moment():
    with pytest.raises(ValueError, match="zone"):
        due_after(DigestSchedule(DAILY, 0), "UTC", datetime(2026, 1, 1))


@pytest.mark.parametrize(("zone", "day", "schedule"), [
    ("Europe/Berlin", date(2026, 3, 29), DigestSchedule(DAILY, at(2, 30))),  # in the gap
    ("Europe/Berlin", date(2026, 10, 25), DigestSchedule(DAILY, at(2, 30))),  # twice
    ("America/New_York", date(2026, 3, 8), DigestSchedule(DAILY, at(2, 30))),
    ("America/New_York", date(2026, 11, 1), DigestSchedule(DAILY, at(1, 30))),
    ("America/New_York", date(2026, 11, 1), DigestSchedule(WEEKLY, at(1, 30), SUN)),
    ("Australia/Lord_Howe", date(2026, 4, 5), DigestSchedule(DAILY, at(1, 45))),
    ("Australia/Lord_Howe", date(2026, 10, 4), DigestSchedule(DAILY, at(2, 15))),
])
def test_on_the_days_clocks_change_a_digest_goes_out_once(zone, day, schedule):
    """Whenever the scheduler asks, every five minutes through the day before and the day itself, it hears of the
    day's digest at one moment only, with one period."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC) - timedelta(days=1)
    dues = {due_after(schedule, zone, start + timedelta(minutes=5 * n)) for n in range(2 * 24 * 12)}
    that_day = [due for due in dues if period_of(schedule, due, zone) == f"{schedule.frequency}:{day}"]
    assert len(that_day) == 1, sorted(dues)


ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago",
         "Pacific/Chatham", "UTC+05:45")
SCHEDULES = (DigestSchedule(DAILY, 0), DigestSchedule(DAILY, at(1, 30)), DigestSchedule(DAILY, at(2, 15)),
             DigestSchedule(DAILY, at(2, 30)), DigestSchedule(DAILY, at(23, 59)),
             DigestSchedule(WEEKLY, at(2, 30), SUN), DigestSchedule(WEEKLY, 0, SUN), DigestSchedule(WEEKLY, at(9), WED))


@pytest.mark.parametrize("zone", ZONES)
def test_a_year_of_digests_has_every_period_once_in_order(zone):
    """Asking for the next digest after the last one, for a year: due moments only go forward, each period is the
    day after (the week after) the previous one, none is skipped or repeated, and each digest goes out at its local
    time on its local day, or when a gap that swallowed that time ends."""
    tz = ZoneInfo(zone) if "/" in zone else None
    for schedule in SCHEDULES:
        step = 1 if schedule.frequency is DAILY else 7
        due, periods = due_after(schedule, zone, utc(2026, 1, 1)), []
        while due < utc(2027, 1, 1):
            period = period_of(schedule, due, zone)
            kind, day = period.split(":")
            day = date.fromisoformat(day)
            assert kind == schedule.frequency
            if periods:
                assert (day - periods[-1]).days == step, (schedule, due)
            periods.append(day)
            if schedule.weekday is not None:
                assert day.weekday() == schedule.weekday
            if tz is not None:
                local = due.astimezone(tz)
                wall = datetime(day.year, day.month, day.day, schedule.minute // 60, schedule.minute % 60)
                if local.replace(tzinfo=None) != wall:  # only when that time did not exist: the gap's end
                    assert local.replace(tzinfo=None) > wall
                    before = (due - timedelta(seconds=1)).astimezone(tz)
                    assert before.replace(tzinfo=None) < wall, (schedule, due)
                    assert local.utcoffset() > before.utcoffset(), (schedule, due)  # the clocks jumped just then
            following = due_after(schedule, zone, due)
            assert following > due
            due = following
        assert len(periods) == len(set(periods)) >= 52


def test_window_of():
    daily, weekly = DigestSchedule(DAILY, at(8)), DigestSchedule(WEEKLY, at(8), MON)
    due = utc(2026, 3, 28, 7)
    assert window_of(daily, due) == (due, due + timedelta(hours=24))
    assert window_of(weekly, utc(2026, 3, 23, 7)) == (utc(2026, 3, 23, 7), utc(2026, 3, 30, 7))
    # with the zone, a window ends where the next one begins: 23 h across spring forward, 25 h across fall back
    assert window_of(daily, due, "Europe/Berlin") == (due, utc(2026, 3, 29, 6))
    assert window_of(daily, utc(2026, 10, 24, 6), "Europe/Berlin") == (utc(2026, 10, 24, 6), utc(2026, 10, 25, 7))
    assert window_of(weekly, utc(2026, 3, 23, 7), "Europe/Berlin") == (utc(2026, 3, 23, 7), utc(2026, 3, 30, 6))
    start, _end = window_of(daily, due.astimezone(ZoneInfo("Asia/Tokyo")))
    assert start.tzinfo is UTC and start == due


def test_a_hundred_thousand_accounts_are_planned_in_well_under_three_seconds():
    """The scheduler asks for every account's next digest: about 0.5 s for 100,000 on our machines."""
    zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC+03:00", "UTC",
             "Europe/Moscow", "America/Los_Angeles"]
    schedules = [DigestSchedule(DAILY, minute) for minute in range(0, 1440, 37)]
    schedules += [DigestSchedule(WEEKLY, minute, minute % 7) for minute in range(0, 1440, 41)]
    after = utc(2026, 3, 28, 23, 59)
    started = time.perf_counter()
    for n in range(100_000):
        due_after(schedules[n % len(schedules)], zones[n % len(zones)], after)
    assert time.perf_counter() - started < 3.0


# the email

START = utc(2030, 7, 1, 17, 5)  # Monday 1 July 2030, 19:05 in Berlin
ROUND = ContestInfo(1, "codeforces", "2100", "Codeforces Round <script>alert(1)</script> & friends",
                    "https://codeforces.com/contest/2100", START, 2 * 3600 + 15 * 60, "Codeforces")
LATE = ContestInfo(2, "atcoder", "abc400", "AtCoder Beginner Contest 400", "https://atcoder.jp/contests/abc400",
                   utc(2030, 7, 1, 23, 30), 100 * 60, "AtCoder")  # 01:30 on Tuesday in Berlin
SNEAKY = ContestInfo(3, "ical", "x/1", "Sneaky\r\nBcc: eve@example.org", "javascript:alert(1)",
                     utc(2030, 7, 3, 9), 0, "Some feed")
DUE = utc(2030, 7, 1, 6)  # 08:00 in Berlin
EVERY_MORNING = DigestSchedule(DAILY, at(8))


class To:
    address = "ann@example.org"
    token = TOKEN


@pytest.fixture(scope="module")
def i18n():
    return make_i18n()


def digest(i18n, contests=(ROUND, LATE), schedule=EVERY_MORNING, language="en",
           zone="Europe/Berlin", to=None, base_url=BASE_URL) -> EmailMessage:
    return digest_email(i18n, Locale(language, zone), to or To(), list(contests), schedule, DUE,
                        from_address=FROM, base_url=base_url, now=DUE)


def on_the_wire(message: EmailMessage) -> tuple[bytes, EmailMessage]:
    raw = message.as_bytes(policy=email.policy.SMTP)
    return raw, message_from_bytes(raw, policy=email.policy.default)


def test_a_daily_digest_lists_contests_by_local_day(i18n):
    _raw, got = on_the_wire(digest(i18n, [LATE, ROUND]))
    assert got["Subject"] == "2 contests in the next 24 hours"
    assert got["Content-Language"] == "en" and got["Auto-Submitted"] == "auto-generated"
    text, html, _attachments = parts(got)
    assert text.startswith("Daily contest digest, Monday, 1 July\n\nTimes are in Berlin (UTC+2).\n")
    # 23:30 UTC on Monday is 01:30 on Tuesday in Berlin: a day of its own, after Monday's contest
    assert ("== Monday, 1 July ==\n\n"
            "Codeforces Round <script>alert(1)</script> & friends\nCodeforces\n19:05 (in 11 h 5 min)\n"
            "Duration: 2 h 15 min\nOpen the contest: https://codeforces.com/contest/2100\n\n"
            "== Tuesday, 2 July ==\n\n"
            "AtCoder Beginner Contest 400\nAtCoder\n01:30 (in 17 h 30 min)\n") in text
    assert html.index(">Monday, 1 July</h2>") < html.index("&amp; friends</h3>") < \
        html.index(">Tuesday, 2 July</h2>") < html.index("AtCoder Beginner Contest 400</h3>")
    assert 'href="https://codeforces.com/contest/2100"' in html
    assert "This digest comes every day at 08:00." in text
    assert "the link below stops only the digests" in text
    assert f"Stop digests: {BASE_URL}/email/digest-unsubscribe/{TOKEN}" in text
    assert f'href="{BASE_URL}/email/digest-unsubscribe/{TOKEN}"' in html
    assert "/email/unsubscribe/" not in text + html


def test_in_new_york_the_same_contests_are_one_day(i18n):
    text, _html, _attachments = parts(digest(i18n, zone="America/New_York"))
    assert "== Monday, 1 July ==" in text and "\n13:05 (" in text and "\n19:30 (" in text and "Tuesday" not in text
    assert "Times are in New York (UTC−4)." in text


def test_a_weekly_digest(i18n):
    _raw, got = on_the_wire(digest(i18n, [ROUND, LATE, SNEAKY], DigestSchedule(WEEKLY, at(8), MON)))
    assert got["Subject"] == "3 contests in the next 7 days"
    text, _html, _attachments = parts(got)
    assert text.startswith("Weekly contest digest, Monday, 1 July\n")
    assert "== Wednesday, 3 July ==\n\nSneaky Bcc: eve@example.org\nSome feed\n11:00 (in 2 d 3 h)\n" in text
    assert "This digest comes every week on Monday at 08:00." in text


@pytest.mark.parametrize(("count", "subject"), [(1, "1 контест в ближайшие 24 часа"),
                                                (3, "3 контеста в ближайшие 24 часа"),
                                                (11, "11 контестов в ближайшие 24 часа")])
def test_the_subject_counts_in_russian_plural_forms(i18n, count, subject):
    contests = [ContestInfo(n, "atcoder", f"abc{n}", f"ABC {n}", "https://atcoder.jp/", START, 6000)
                for n in range(1, count + 1)]
    assert digest(i18n, contests, language="ru")["Subject"] == subject


def test_titles_and_links_from_sites_are_escaped(i18n):
    raw, got = on_the_wire(digest(i18n, [ROUND, SNEAKY]))
    _text, html, _attachments = parts(got)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in html
    assert "javascript:" not in html and ">Sneaky Bcc: eve@example.org</h3>" in html
    assert html.count(">Open the contest</a>") == 1  # the feed's script link is no button
    assert b"\nBcc:" not in raw and got["Bcc"] is None


def test_the_calendar_has_every_contest_with_the_feeds_uid(i18n):
    _raw, got = on_the_wire(digest(i18n, [ROUND, LATE, SNEAKY]))
    *_, attachments = parts(got)
    (ics,) = attachments
    assert ics.get_content_type() == "text/calendar" and ics.get_filename() == "contests.ics"
    events = Calendar.from_ical(ics.get_content()).events
    assert sorted(str(event["UID"]) for event in events) == sorted(map(contest_uid, (ROUND, LATE, SNEAKY)))
    (late,) = [event for event in events if str(event["UID"]) == contest_uid(LATE)]
    assert late.start == LATE.start and late.end == LATE.start + timedelta(minutes=100)


def test_the_one_click_header_is_plain_and_stops_digests_only(i18n):
    """What a provider reads: the raw header, not RFC 2047-encoded, the link in one piece."""
    raw, got = on_the_wire(digest(i18n, to=SimpleNamespace(address="ann@example.org", token=REAL_TOKEN),
                                  language="ru", base_url="https://contestbell.example.org/"))
    headers = raw_headers(raw)
    link = f"https://contestbell.example.org/email/digest-unsubscribe/{REAL_TOKEN}"
    assert unfolded(headers["list-unsubscribe"]) == f"<{link}>"
    assert b"=?" not in b"".join(headers["list-unsubscribe"])
    assert headers["list-unsubscribe-post"] == [b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
    assert got["List-Unsubscribe"].strip() == f"<{link}>"
    assert link == digest_unsubscribe_link("https://contestbell.example.org/", REAL_TOKEN)
    assert DIGEST_UNSUBSCRIBE_PATH.format(token=REAL_TOKEN) in link


async def test_a_digest_arrives_over_smtp_with_its_headers_plain(inbox, i18n):  # noqa: F811
    (got,) = await deliver(inbox, digest(i18n, to=SimpleNamespace(address="ann@example.org", token=REAL_TOKEN)))
    raw = inbox.envelopes[0].original_content
    assert unfolded(raw_headers(raw)["list-unsubscribe"]) == f"<{BASE_URL}/email/digest-unsubscribe/{REAL_TOKEN}>"
    assert got["Subject"] == "2 contests in the next 24 hours"
    assert len(parts(got)[2]) == 1


def test_a_digest_speaks_the_account_language(i18n):
    """The day headings come from babel (CLDR), in the account's language; an unknown language is English."""
    got = digest(i18n, language="ru")
    text, html, _attachments = parts(got)
    assert got["Content-Language"] == "ru" and '<html lang="ru"' in html
    assert "== Понедельник, 1 июля ==\n" in text and "== Вторник, 2 июля ==\n" in text
    assert "\n19:05 (через " in text and "Открыть контест" in text
    assert "2ч 15м" in text
    english = digest(i18n, language="xx-evil")
    assert english["Content-Language"] == "en" and "Monday, 1 July" in parts(english)[0]


def test_an_empty_digest_is_not_made(i18n):
    with pytest.raises(ValueError, match="at least one contest"):
        digest(i18n, [])
    with pytest.raises(ValueError, match="token"):
        digest(i18n, to=SimpleNamespace(address="ann@example.org", token=None))
