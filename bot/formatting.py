"""How the bot shows contests and times: in the chat's zone and language, titles escaped for HTML. Site names are
the catalog's (models/catalog.py): a handler that shows them lists the sites first, which refreshes the names."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.utils.i18n import gettext as _

from models.catalog import site_name
from models.contest import Contest
from notify.formatting import local_time, relative, span

__all__ = ["contest_text", "site_name"]


def contest_text(contest: Contest, zone: tzinfo, language: str, now: datetime) -> str:
    """One contest as HTML: title, site, start in the chat's zone with how far it is, duration, link."""
    return (
        f"<b>{escape(contest.title)}</b>\n"
        f"{escape(site_name(contest.site_id))} · {local_time(contest.start, zone, language)} · "
        f"{relative(contest.start, now)}\n"
        + _("Duration: {duration}").format(duration=span(contest.duration))
        + f' · <a href="{escape(contest.url, quote=True)}">' + _("open") + "</a>"
    )
