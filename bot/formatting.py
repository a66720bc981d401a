"""How the bot shows contests and times: in the chat's zone and language, titles escaped for HTML."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime

from fetchers.registry import all_sites
from models.contest import Contest


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


def zone_label(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def local_time(moment: datetime, zone: tzinfo, language: str) -> str:
    """'Sat, 11 Oct, 21:35 (Europe/Moscow)' in the chat's language."""
    shown = format_datetime(moment.astimezone(zone), "EEE, d MMM, HH:mm", locale=language)
    return f"{shown} ({zone_label(zone)})"


def site_name(slug: str) -> str:
    site = all_sites().get(slug)
    return site.info.name if site else slug


def contest_text(contest: Contest, zone: tzinfo, language: str, now: datetime) -> str:
    """One contest as HTML: title, site, start in the chat's zone with how far it is, duration, link."""
    return (
        f"<b>{escape(contest.title)}</b>\n"
        f"{escape(site_name(contest.site_id))} · {local_time(contest.start, zone, language)} · "
        f"{relative(contest.start, now)}\n"
        + _("Duration: {duration}").format(duration=span(contest.duration))
        + f' · <a href="{escape(contest.url, quote=True)}">' + _("open") + "</a>"
    )
