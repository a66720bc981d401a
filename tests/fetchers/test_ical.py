"""fetchers/ical.py: iCalendar feeds read into events and contests.

The real capture (HackerRank's feed, 2018-06-04) is read first. It has no RRULE, RECURRENCE-ID, TZID, floating
time, DATE value, DURATION, URL property or CRLF, so those are shown on calendars written here by hand, as are
broken events, texts that are not calendars and hostile rules: no capture has them.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from fetchers.contest import ParseError
from fetchers.ical import (
    MAX_KEY_LENGTH,
    MAX_OCCURRENCES,
    CalendarEvent,
    calendar_events,
    default_window,
    feed_contests,
)
from tests.captures import capture_text

FEED = "hackerrank/calendar_cal_ics_2018-06-04.ics"
#: the capture's DTSTAMP: when HackerRank built the feed
BUILT = datetime(2018, 6, 4, 5, 44, 22, tzinfo=UTC)
ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
HOME = "https://www.hackerrank.com/calendar"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def events_by_key(text: str | bytes, window: tuple[datetime, datetime]) -> dict[str, CalendarEvent]:
    return {event.key: event for event in calendar_events(text, window=window)}


def event_of_uid(events: list[CalendarEvent], uid: str) -> CalendarEvent:
    return next(event for event in events if event.uid == uid)


# --- the real capture ---------------------------------------------------------------------------------------

def test_capture_read_over_the_window_around_its_date():
    contests = feed_contests("feed", capture_text(FEED), window=default_window(BUILT), default_url=HOME)
    assert len(contests) == 71  # events starting 2018-05-04 05:44:22Z .. 2019-06-05 05:44:22Z
    assert Counter(urlsplit(c.url).hostname for c in contests) == {
        "www.codechef.com": 24, "codeforces.com": 23, "www.topcoder.com": 16, "www.hackerrank.com": 5,
        "www.urionlinejudge.com.br": 2, "tco18.topcoder.com": 1}
    assert all(default_window(BUILT)[0] <= c.start < default_window(BUILT)[1] for c in contests)
    week_of_code = next(c for c in contests if c.title == "Week of Code 38")
    assert (week_of_code.site, week_of_code.key, week_of_code.url, week_of_code.start, week_of_code.duration) == (
        "feed", "b6e3e9ac-747c-40b9-9044-1aa7cbe1a035", "https://www.hackerrank.com/contests/w38/",
        utc(2018, 6, 18, 7), 7 * 86400)


def test_capture_every_event_but_one_is_read():
    events = calendar_events(capture_text(FEED), window=ALL_TIME)
    assert len(events) == 1875  # of 1876 VEVENTs
    assert len(events.skipped) == 1
    assert "2e7cd766-0840-4fd0-ae58-8d75185479c3" in events.skipped[0]  # Hacker Games Finals: DTEND 1970-01-16
    assert "DTEND is before DTSTART" in events.skipped[0]
    assert len({event.key for event in events}) == 1875
    assert all(event.key == event.uid for event in events)  # no recurring events in this feed


def test_capture_cyrillic_title_with_escaped_commas():
    events = events_by_key(capture_text(FEED), (utc(2013, 9, 1), utc(2013, 10, 1)))
    assert len(events) == 17
    # SUMMARY:Codeforces - Пятница\, 13-ое\, День Программи + a folded line: ста
    friday = events["0a81f885-a875-4ec8-a31d-50d5ad5b5ff6"]
    assert friday.title == "Codeforces - Пятница, 13-ое, День Программиста"
    assert friday.description == "Пятница, 13-ое, День Программиста"
    assert (friday.start, friday.end, friday.url) == (utc(2013, 9, 13, 15, 30), utc(2013, 9, 13, 17, 30),
                                                     "https://codeforces.com/contests")


def test_capture_folded_title_is_unfolded_as_written():
    """RFC 5545 unfolding drops the line break and the one space after it. The capture lost the space that ended
    the folded line (no line of it ends in a space: trailing spaces were stripped before it was committed), so
    this title reads "Квалификационныйраунд"; its DESCRIPTION, not folded, has the space."""
    [event] = calendar_events(capture_text(FEED), window=(utc(2014, 4, 14), utc(2014, 4, 15)))
    assert event.title == "Codeforces - Coder-Strike 2014 - Квалификационныйраунд"
    assert event.description == "Coder-Strike 2014 - Квалификационный раунд"


def test_capture_html_descriptions_become_text():
    events = calendar_events(capture_text(FEED), window=ALL_TIME)
    assert not [event.key for event in events if "<br" in event.description or "<a " in event.description]
    week_of_code = event_of_uid(events, "b6e3e9ac-747c-40b9-9044-1aa7cbe1a035")
    assert week_of_code.description.startswith(
        "Join our biggest contest, Week of Code 38! This is a 7 day contest beginning Monday, 18 June at 12:00am PDT."
        "\n\nEach day, from Monday to Saturday")


def test_capture_events_without_a_link_get_the_default_url():
    """May Cook-Off 2016 has no LOCATION; Code-Hack 1.0 has LOCATION:http:// (no host)."""
    may = feed_contests("feed", capture_text(FEED), window=(utc(2016, 5, 22, 16), utc(2016, 5, 22, 16, 1)),
                        default_url=HOME)
    code_hack = feed_contests("feed", capture_text(FEED), window=(utc(2015, 4, 15, 4), utc(2015, 4, 15, 5)),
                              default_url=HOME)
    assert [(c.title, c.url) for c in may + code_hack] == [
        ("Codechef - May Cook-Off 2016", HOME), ("Codechef - Code-Hack 1.0", HOME)]


def test_capture_google_redirect_links_are_unwrapped():
    events = calendar_events(capture_text(FEED), window=ALL_TIME)
    assert not [event.url for event in events if urlsplit(event.url).hostname == "www.google.com"]
    srm_730 = next(event for event in events if event.title == "Topcoder - SRM 730")
    assert srm_730.url == "http://crowdsourcing.topcoder.com/Harvard-NTL-SRM"


# --- hand-written calendars: what no capture shows ---------------------------------------------------------

def calendar(*events: list[str], header: tuple[str, ...] = (), newline: str = "\r\n") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//contestbell tests//EN", *header]
    for event in events:
        lines += event
    return newline.join([*lines, "END:VCALENDAR", ""])


def vevent(*lines: str) -> list[str]:
    return ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT"]


JANUARY = (utc(2026, 1, 1), utc(2026, 2, 10))
WEEKLY = vevent("UID:weekly@club", "DTSTART:20251201T100000Z", "DURATION:PT2H", "RRULE:FREQ=WEEKLY",
                "EXDATE:20260119T100000Z", "SUMMARY:Club weekly")


def test_weekly_rule_is_expanded_over_the_window_without_its_exdate():
    events = calendar_events(calendar(WEEKLY), window=JANUARY)
    assert [event.key for event in events] == [
        "weekly@club@20260105T100000Z", "weekly@club@20260112T100000Z", "weekly@club@20260126T100000Z",
        "weekly@club@20260202T100000Z", "weekly@club@20260209T100000Z"]  # not Dec 2025 (before), not Jan 19
    assert {(event.end - event.start, event.title, event.uid) for event in events} == {
        (timedelta(hours=2), "Club weekly", "weekly@club")}


def test_an_overridden_occurrence_moves_and_keeps_its_key():
    moved = vevent("UID:weekly@club", "RECURRENCE-ID:20260112T100000Z", "DTSTART:20260113T110000Z",
                   "DURATION:PT3H", "SUMMARY:Club weekly (moved)")
    events = events_by_key(calendar(WEEKLY, moved), window=JANUARY)
    assert len(events) == 5
    occurrence = events["weekly@club@20260112T100000Z"]
    assert (occurrence.title, occurrence.start, occurrence.end) == (
        "Club weekly (moved)", utc(2026, 1, 13, 11), utc(2026, 1, 13, 14))


def test_an_occurrence_moved_out_of_the_window_is_gone_and_one_moved_in_is_there():
    out = vevent("UID:weekly@club", "RECURRENCE-ID:20260209T100000Z", "DTSTART:20260301T100000Z",
                 "SUMMARY:Club weekly")
    into = vevent("UID:weekly@club", "RECURRENCE-ID:20251229T100000Z", "DTSTART:20260102T100000Z",
                  "SUMMARY:Club weekly")
    keys = list(events_by_key(calendar(WEEKLY, out, into), window=JANUARY))
    assert "weekly@club@20260209T100000Z" not in keys
    assert "weekly@club@20251229T100000Z" in keys


def test_tzid_moscow_and_new_york_across_the_dst_change():
    moscow = vevent("UID:msk", "DTSTART;TZID=Europe/Moscow:20260310T180000",
                    "DTEND;TZID=Europe/Moscow:20260310T200000", "SUMMARY:Moscow round")
    new_york = vevent("UID:ny", "DTSTART;TZID=America/New_York:20260301T100000",
                      "DTEND;TZID=America/New_York:20260301T130000", "RRULE:FREQ=WEEKLY;COUNT=3",
                      "SUMMARY:New York round")
    events = events_by_key(calendar(moscow, new_york), window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert (events["msk"].start, events["msk"].end) == (utc(2026, 3, 10, 15), utc(2026, 3, 10, 17))
    # 10:00 in New York: EST (UTC-5) on 1 March, EDT (UTC-4) from 8 March
    assert [(key, event.start, event.end) for key, event in events.items() if key.startswith("ny@")] == [
        ("ny@20260301T150000Z", utc(2026, 3, 1, 15), utc(2026, 3, 1, 18)),
        ("ny@20260308T140000Z", utc(2026, 3, 8, 14), utc(2026, 3, 8, 17)),
        ("ny@20260315T140000Z", utc(2026, 3, 15, 14), utc(2026, 3, 15, 17))]


def test_tzid_defined_by_the_feeds_own_vtimezone():
    zone = ["BEGIN:VTIMEZONE", "TZID:Contest Time", "BEGIN:STANDARD", "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0500", "TZOFFSETTO:+0500", "END:STANDARD", "END:VTIMEZONE"]
    event = vevent("UID:a", "DTSTART;TZID=Contest Time:20260310T120000", "SUMMARY:Round")
    [read] = calendar_events(calendar(event, header=tuple(zone)), window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert read.start == utc(2026, 3, 10, 7)


FLOATING = vevent("UID:floating", "DTSTART:20260701T100000", "DTEND:20260701T120000", "SUMMARY:Floating round")
SUMMER = (utc(2026, 6, 1), utc(2026, 8, 1))


def test_floating_time_is_utc_without_x_wr_timezone():
    [event] = calendar_events(calendar(FLOATING), window=SUMMER)
    assert (event.start, event.end) == (utc(2026, 7, 1, 10), utc(2026, 7, 1, 12))


def test_floating_time_is_in_x_wr_timezone():
    [event] = calendar_events(calendar(FLOATING, header=("X-WR-TIMEZONE:Europe/Berlin",)), window=SUMMER)
    assert (event.start, event.end) == (utc(2026, 7, 1, 8), utc(2026, 7, 1, 10))  # CEST, UTC+2


def test_with_x_wr_timezone_a_utc_rule_keeps_that_zones_wall_clock_across_dst():
    """Google Calendar's exports write start times in UTC and mean the calendar's zone (x_wr_timezone)."""
    weekly = vevent("UID:w", "DTSTART:20260320T090000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Berlin weekly")
    events = calendar_events(calendar(weekly, header=("X-WR-TIMEZONE:Europe/Berlin",)),
                             window=(utc(2026, 3, 1), utc(2026, 4, 10)))
    # 10:00 in Berlin each time: CET until 29 March, then CEST; the keys are the occurrences' UTC starts
    assert [(event.key, event.start) for event in events] == [
        ("w@20260320T090000Z", utc(2026, 3, 20, 9)), ("w@20260327T090000Z", utc(2026, 3, 27, 9)),
        ("w@20260403T080000Z", utc(2026, 4, 3, 8))]


def test_an_unknown_x_wr_timezone_skips_only_floating_events():
    utc_event = vevent("UID:utc", "DTSTART:20260701T100000Z", "SUMMARY:UTC round")
    events = calendar_events(calendar(FLOATING, utc_event, header=("X-WR-TIMEZONE:Mars/Olympus",)), window=SUMMER)
    assert [event.key for event in events] == ["utc"]
    assert len(events.skipped) == 1 and "Mars/Olympus" in events.skipped[0]


def test_date_only_events_start_at_midnight_utc_and_last_a_day_without_dtend():
    one_day = vevent("UID:day", "DTSTART;VALUE=DATE:20260310", "SUMMARY:All-day round")
    three_days = vevent("UID:days", "DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260313",
                        "SUMMARY:Three-day round")
    events = events_by_key(calendar(one_day, three_days), window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert (events["day"].start, events["day"].end) == (utc(2026, 3, 10), utc(2026, 3, 11))
    assert (events["days"].start, events["days"].end) == (utc(2026, 3, 10), utc(2026, 3, 13))


def test_duration_instead_of_dtend_and_neither():
    timed = vevent("UID:timed", "DTSTART:20260310T120000Z", "DURATION:PT2H30M", "SUMMARY:Timed")
    instant = vevent("UID:instant", "DTSTART:20260310T120000Z", "SUMMARY:Instant")
    events = events_by_key(calendar(timed, instant), window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert events["timed"].end == utc(2026, 3, 10, 14, 30)
    assert events["instant"].end == events["instant"].start == utc(2026, 3, 10, 12)


def test_crlf_and_lf_read_the_same():
    text = calendar(WEEKLY, FLOATING, newline="\r\n")
    assert "\r\n" in text
    window = (utc(2025, 1, 1), utc(2027, 1, 1))
    events = calendar_events(text, window=window)
    assert len(events) == 57  # 5 Mondays of December 2025 and 52 of 2026 less the EXDATE, and the floating round
    assert events == calendar_events(text.replace("\r\n", "\n"), window=window)


def test_folded_lines_are_unfolded():
    title = "Universal Cup, Stage 12: Grand Prix of Somewhere Far Away (online mirror, rated for everyone)"
    folded = ["SUMMARY:Universal Cup\\, Stage 12: Grand Prix of Somewhere Far Away (online m",
              " irror\\, rated for everyone)"]
    description = ["DESCRIPTION:Register at https://ucup.example/stage/12 before the round star",
                   "\tts. Good luck!"]
    [event] = calendar_events(calendar(vevent("UID:u", "DTSTART:20260310T120000Z", *folded, *description)),
                              window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert event.title == title
    assert event.description == "Register at https://ucup.example/stage/12 before the round starts. Good luck!"
    assert event.url == "https://ucup.example/stage/12"


def test_escapes_in_text():
    event_lines = vevent("UID:e", "DTSTART:20260310T120000Z", "SUMMARY:Round 1\\, Div. 2\\; rated\\nmirror",
                         "DESCRIPTION:Line one\\nLine two\\, with a comma\\; and a backslash \\\\ here")
    [event] = calendar_events(calendar(event_lines), window=(utc(2026, 3, 1), utc(2026, 4, 1)))
    assert event.title == "Round 1, Div. 2; rated mirror"
    assert event.description == "Line one\nLine two, with a comma; and a backslash \\ here"


GOOD = vevent("UID:good", "DTSTART:20260310T120000Z", "SUMMARY:Good round")
MARCH = (utc(2026, 3, 1), utc(2026, 4, 1))


@pytest.mark.parametrize(("broken", "reason"), [
    (vevent("DTSTART:20260310T120000Z", "SUMMARY:No UID"), "no UID"),
    (vevent("UID:x", "SUMMARY:No start"), "no DTSTART"),
    (vevent("UID:x", "DTSTART:20260310T120000Z"), "no SUMMARY"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "SUMMARY:  "), "no SUMMARY"),
    (vevent("UID:x", "DTSTART:2026-03-10 soon", "SUMMARY:Broken start"), "broken DTSTART"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "DTEND:tomorrow", "SUMMARY:Broken end"), "broken DTEND"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "DURATION:two hours", "SUMMARY:Broken"), "broken DURATION"),
    (vevent("UID:x", "DTSTART;TZID=Mars/Olympus:20260310T120000", "SUMMARY:Mars"), "unknown time zone"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "DTEND:20260310T110000Z", "SUMMARY:Back"), "before DTSTART"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "DURATION:-PT1H", "SUMMARY:Back"), "negative DURATION"),
    (vevent("UID:x", "DTSTART:20260310T120000Z", "SUMMARY:One", "SUMMARY:Two"), "more than one SUMMARY"),
    (vevent("UID:x", "DTSTART;VALUE=PERIOD:20260310T120000Z/PT1H", "SUMMARY:Period"), "unreadable"),
])
def test_a_broken_event_is_skipped_and_counted_and_the_others_survive(broken, reason):
    events = calendar_events(calendar(broken, GOOD), window=MARCH)
    assert [event.key for event in events] == ["good"]
    assert len(events.skipped) == 1 and reason in events.skipped[0]


@pytest.mark.parametrize("text", [
    "", "   \r\n", "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>",
    '{"status": "OK", "result": []}', "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:cut\r\n",
    "\r\n".join(GOOD), "BEGIN:VCALENDAR\r\nCALSCALE:JULIAN\r\nEND:VCALENDAR\r\n",
    "BEGIN:VCALENDAR\r\nTZID:Foo\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n",  # icalendar: AttributeError
])
def test_a_text_that_is_not_a_calendar_is_a_parse_error(text):
    with pytest.raises(ParseError, match="calendar"):
        calendar_events(text, window=MARCH)


def test_an_empty_calendar_is_no_events():
    assert calendar_events(calendar(), window=MARCH) == []


def test_bytes_with_a_byte_order_mark_read_like_text():
    text = calendar(GOOD, vevent("UID:ru", "DTSTART:20260311T120000Z", "SUMMARY:Раунд"))
    assert calendar_events(b"\xef\xbb\xbf" + text.encode(), window=MARCH) == calendar_events(text, window=MARCH)
    assert [event.title for event in calendar_events(text.encode(), window=MARCH)] == ["Good round", "Раунд"]


# --- hostile rules -----------------------------------------------------------------------------------------

def timed_read(*events: list[str], window: tuple[datetime, datetime]) -> tuple[list[CalendarEvent], list[str]]:
    started = time.perf_counter()
    events_read = calendar_events(calendar(*events, GOOD), window=window)
    assert time.perf_counter() - started < 2, "a hostile rule took too long"
    assert "good" in [event.key for event in events_read]
    return [event for event in events_read if event.key != "good"], events_read.skipped


def test_a_huge_count_stays_bounded_by_the_window():
    rule = vevent("UID:h", "DTSTART:20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=1000000000", "SUMMARY:Many")
    events, skipped = timed_read(rule, window=default_window(utc(2026, 3, 1)))
    assert len(events) == 57 and not skipped  # 2026-01-29 .. 2027-03-02: every Monday from 2026-02-02


def test_an_unbounded_daily_rule_from_long_ago_stays_bounded_by_the_window():
    rule = vevent("UID:d", "DTSTART:19900101T100000Z", "RRULE:FREQ=DAILY", "SUMMARY:Daily")
    events, skipped = timed_read(rule, window=MARCH)
    assert len(events) == 31 and not skipped


@pytest.mark.parametrize(("rule", "reason"), [
    ("FREQ=SECONDLY", "steps"),  # 34 million occurrences in the window
    ("FREQ=MINUTELY", "steps"),
    ("FREQ=HOURLY", f"more than {MAX_OCCURRENCES} occurrences"),
    ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL 0"),  # dateutil would never advance
])
def test_too_dense_a_rule_is_skipped_quickly(rule, reason):
    events, skipped = timed_read(vevent("UID:dense", "DTSTART:20260301T000000Z", f"RRULE:{rule}",
                                        "SUMMARY:Dense"), window=default_window(utc(2026, 3, 1)))
    assert events == [] and len(skipped) == 1 and reason in skipped[0]


def test_a_rule_dense_only_within_limits_is_read():
    events, skipped = timed_read(vevent("UID:hourly", "DTSTART:20260301T000000Z", "RRULE:FREQ=HOURLY",
                                        "SUMMARY:Hourly"), window=MARCH)
    assert len(events) == 31 * 24 and not skipped


def test_a_minutely_rule_from_1970_is_skipped_before_stepping_to_the_window():
    events, skipped = timed_read(vevent("UID:old", "DTSTART:19700101T000000Z", "RRULE:FREQ=MINUTELY",
                                        "SUMMARY:Old"), window=MARCH)
    assert events == [] and "steps" in skipped[0]


@pytest.mark.parametrize("rule", [
    "FREQ=SOMETIMES", "FREQ=WEEKLY;BYDAY=XX", "FREQ=WEEKLY;UNTIL=never", "FREQ=WEEKLY;COUNT=-5",
    "FREQ=YEARLY;BYSETPOS=0", "FREQ=YEARLY;BYDAY=60MO", "FREQ=WEEKLY;COUNT=99999999999999999999", "RUBBISH",
])
def test_a_malformed_rule_is_skipped_without_stopping_the_others(rule):
    events, skipped = timed_read(vevent("UID:bad", "DTSTART:20260301T100000Z", f"RRULE:{rule}",
                                        "SUMMARY:Bad rule"), window=MARCH)
    assert events == [] and len(skipped) == 1 and "'bad'" in skipped[0]


# --- links, keys, the window --------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "url"), [
    (("URL:https://club.example/r/1", "LOCATION:https://elsewhere.example/", "DESCRIPTION:https://x.example/"),
     "https://club.example/r/1"),
    (("LOCATION:https://club.example/r/2", "DESCRIPTION:Sponsored by https://sponsor.example/"),
     "https://club.example/r/2"),
    (("LOCATION:Online", "DESCRIPTION:Rules: https://club.example/rules."), "https://club.example/rules"),
    (('DESCRIPTION:<p>Join <a href="https://club.example/r?a=1&amp;b=2">here</a></p>',),
     "https://club.example/r?a=1&b=2"),
    (("LOCATION:https://www.google.com/url?q=https%3A%2F%2Fclub.example%2Fr%2F3&sa=D&usg=AFQ",),
     "https://club.example/r/3"),
    (("LOCATION:http://", "DESCRIPTION:no link at all"), ""),
])
def test_the_events_address(lines, url):
    [event] = calendar_events(calendar(vevent("UID:l", "DTSTART:20260310T120000Z", "SUMMARY:Linked", *lines)),
                              window=MARCH)
    assert event.url == url


def test_a_link_too_long_for_the_database_is_passed_over():
    long_link = "https://club.example/" + "r" * 600
    lines = (f"URL:{long_link}", "DESCRIPTION:See https://club.example/r/4")
    [event] = calendar_events(calendar(vevent("UID:l", "DTSTART:20260310T120000Z", "SUMMARY:Linked", *lines)),
                              window=MARCH)
    assert event.url == "https://club.example/r/4"


def test_an_event_lasting_longer_than_the_database_holds_is_skipped():
    century = vevent("UID:century", "DTSTART:20260310T120000Z", "DTEND:21260310T120000Z", "SUMMARY:Forever")
    contests = feed_contests("club", calendar(century, GOOD), window=MARCH, default_url="https://club.example")
    assert [contest.key for contest in contests] == ["good"]


def test_an_html_description_becomes_text():
    html = "DESCRIPTION:<p>Round <b>one</b></p><br><ul><li>5 problems</li><li>2 hours</li></ul>"
    [event] = calendar_events(calendar(vevent("UID:h", "DTSTART:20260310T120000Z", "SUMMARY:H", html)),
                              window=MARCH)
    assert event.description == "Round\none\n5 problems\n2 hours"


def test_long_uids_make_bounded_stable_distinct_keys():
    long_uid = "x" * 300
    events = calendar_events(calendar(vevent(f"UID:{long_uid}a", "DTSTART:20260310T120000Z", "SUMMARY:A"),
                                      vevent(f"UID:{long_uid}b", "DTSTART:20260310T120000Z", "SUMMARY:B")),
                             window=MARCH)
    keys = [event.key for event in events]
    assert [len(key) for key in keys] == [MAX_KEY_LENGTH, MAX_KEY_LENGTH] and keys[0] != keys[1]
    assert all(key.startswith("x" * 80) for key in keys)
    assert [event.uid for event in events] == [f"{long_uid}a", f"{long_uid}b"]
    again = calendar_events(calendar(vevent(f"UID:{long_uid}a", "DTSTART:20260310T120000Z", "SUMMARY:A")),
                            window=MARCH)
    assert again[0].key == keys[0]


def test_the_window_holds_events_that_start_in_it():
    lines = [vevent(f"UID:{name}", f"DTSTART:{start}", "DURATION:PT5H", f"SUMMARY:{name}")
             for name, start in [("at-start", "20260301T000000Z"), ("running", "20260228T230000Z"),
                                 ("at-end", "20260401T000000Z"), ("last", "20260331T235959Z")]]
    assert [event.key for event in calendar_events(calendar(*lines), window=MARCH)] == ["at-start", "last"]


def test_windows_and_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        calendar_events(calendar(GOOD), window=(datetime(2026, 3, 1), datetime(2026, 4, 1)))
    with pytest.raises(ValueError, match="aware"):
        calendar_events(calendar(GOOD), window=(MARCH[1], MARCH[0]))
    with pytest.raises(ValueError, match="zone"):
        default_window(datetime(2026, 3, 1))


def test_default_window_is_a_month_back_and_a_year_ahead():
    assert default_window(utc(2026, 3, 1)) == (utc(2026, 1, 29), utc(2027, 3, 2))


def test_feed_contests_are_contests_of_the_site():
    lines = vevent("UID:c", "DTSTART;TZID=Europe/Moscow:20260310T180000", "DURATION:PT2H", "SUMMARY:Round")
    [contest] = feed_contests("club", calendar(lines), window=MARCH, default_url="https://club.example")
    assert (contest.site, contest.key, contest.title, contest.url, contest.start, contest.duration) == (
        "club", "c", "Round", "https://club.example", utc(2026, 3, 10, 15), 7200)
