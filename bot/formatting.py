"""How the bot shows contests and times: in the chat's zone and language, titles escaped for HTML. Site names are
the catalog's (models/catalog.py): a handler that shows them lists the sites first, which refreshes the names."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from aiogram.utils.i18n import gettext as _

from models.catalog import site_name
from models.contest import Contest
from notify.events import Event
from notify.formatting import relative, span, wall_time

__all__ = ["event_text", "site_name"]


def links_text(event: Event[Contest]) -> str:
    """ "open" for one contest; a link per division for a round: "Div. 1 · Div. 2"."""
    names = event.division_names() or [_("open")]
    return " · ".join(f'<a href="{escape(contest.url, quote=True)}">{escape(name)}</a>'
                      for contest, name in zip(event.contests, names, strict=False))


def event_text(event: Event[Contest], zone: tzinfo, language: str, now: datetime) -> str:
    """One entry of a list as HTML: title, site, start in the chat's zone (which the list's header names) with
    how far it is, duration, links."""
    first = event.first
    durations = " / ".join(dict.fromkeys(span(contest.duration) for contest in event.contests))
    return (
        f"<b>{escape(event.title)}</b>\n"
        f"{escape(site_name(first.site_id))} · {wall_time(first.start, zone, language)} · "
        f"{relative(first.start, now)}\n"
        + _("Duration: {duration}").format(duration=durations) + " · " + links_text(event)
    )
