"""How the bot shows contests and times: in the chat's zone and language, titles escaped for HTML."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.utils.i18n import gettext as _

from fetchers.registry import all_sites
from models.contest import Contest
from notify.formatting import local_time, relative, span


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
