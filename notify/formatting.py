"""Times for people: lengths ("3 h 20 min"), distances ("in 3 h 20 min") and moments in their zone and
language. Used by the bot, the reminders and email (texts come from the gettext context in force)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime, get_day_names

from notify.zones import utc_offset, zone_display


def span(seconds: float) -> str:
    """A length of time in its two largest units, to the nearest minute: '2 d 3 h', '3 h 20 min', '10 min'."""
    minutes = int((seconds + 30) // 60)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = []
    if days:
        parts.append(_("{n} d").format(n=days))
    if hours:
        parts.append(_("{n} h").format(n=hours))
    if minutes and not days:
        parts.append(_("{n} min").format(n=minutes))
    return " ".join(parts[:2]) or _("{n} min").format(n=0)


def relative(moment: datetime, now: datetime) -> str:
    """'in 3 h 20 min', '20 min ago', 'now'."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return _("now")
    if seconds > 0:
        return _("in {span}").format(span=span(seconds))
    return _("{span} ago").format(span=span(-seconds))


def wall_time(moment: datetime, zone: tzinfo, language: str) -> str:
    """'Sat, 11 Oct, 21:35' in the chat's language: for lines under a header that names the zone once."""
    return format_datetime(moment.astimezone(zone), "EEE, d MMM, HH:mm", locale=language)


def local_time(moment: datetime, zone: tzinfo, language: str) -> str:
    """'Sat, 11 Oct, 21:35 (UTC+3)' in the chat's language: a moment anyone can read, wherever they are (the
    offset is the one in force then, DST included)."""
    return f"{wall_time(moment, zone, language)} ({utc_offset(zone, moment)})"


def day_name(weekday: int, language: str) -> str:
    """The name of a weekday (0 = Monday) in a language: "Monday", "понедельник"."""
    return get_day_names("wide", "format", locale=language)[weekday]


def times_in(zone: str, language: str, now: datetime) -> str:
    """The header line of a list whose lines show wall times (HTML): "Times in Moscow (UTC+3)"."""
    return _("Times in {zone}").format(zone=escape(zone_display(zone, language, now), quote=False))
