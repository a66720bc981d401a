"""Calendars written by hand for what no captured feed shows: events in the future of today's clock."""

from __future__ import annotations

from datetime import datetime, timedelta


def ical_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def club_calendar(single_start: datetime, weekly_start: datetime, *, moved_week: int | None = None,
                  with_single: bool = True) -> str:
    """A weekly round in Moscow time (RRULE, 10 weeks), one round in New York time, and optionally one
    occurrence of the weekly round moved by an hour (RECURRENCE-ID)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//contestbell tests//EN",
             "BEGIN:VEVENT", "UID:weekly@club", f"DTSTAMP:{ical_time(weekly_start)}Z",
             f"DTSTART;TZID=Europe/Moscow:{ical_time(weekly_start)}", "DURATION:PT2H",
             "RRULE:FREQ=WEEKLY;COUNT=10", "SUMMARY:Club weekly\\, rated", "URL:https://club.example/weekly",
             "END:VEVENT"]
    if moved_week is not None:
        original = weekly_start + timedelta(weeks=moved_week)
        lines += ["BEGIN:VEVENT", "UID:weekly@club", f"DTSTAMP:{ical_time(weekly_start)}Z",
                  f"RECURRENCE-ID;TZID=Europe/Moscow:{ical_time(original)}",
                  f"DTSTART;TZID=Europe/Moscow:{ical_time(original + timedelta(hours=1))}", "DURATION:PT2H",
                  "SUMMARY:Club weekly\\, rated", "END:VEVENT"]
    if with_single:
        lines += ["BEGIN:VEVENT", "UID:open-cup-final@club", f"DTSTAMP:{ical_time(weekly_start)}Z",
                  f"DTSTART;TZID=America/New_York:{ical_time(single_start)}",
                  f"DTEND;TZID=America/New_York:{ical_time(single_start + timedelta(hours=5))}",
                  "SUMMARY:Open Cup final", "DESCRIPTION:Details at https://club.example/final", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])
