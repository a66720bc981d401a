"""Reminder and notice texts for Telegram (HTML), in the recipient's language and zone.

Called outside any update, so the language is set explicitly with the I18n instance's context.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from notify.formatting import local_time, relative, span, times_in, wall_time
from notify.i18n import ngettext
from notify.messages import ContestInfo, Locale, Notice, Reminder
from notify.zones import zone_of


def contest_line(contest: ContestInfo, locale: Locale, now: datetime, zone_in_header: bool = False) -> str:
    """A contest of a reminder: its start with the UTC offset, or the wall time alone under a header that names
    the zone once."""
    zone = zone_of(locale.timezone)
    shown = wall_time if zone_in_header else local_time
    return (
        f'<b><a href="{escape(contest.url, quote=True)}">{escape(contest.title)}</a></b>\n'
        f"{escape(contest.site_label)} · {shown(contest.start, zone, locale.language)} · "
        f"{relative(contest.start, now)} · {span(contest.duration)}"
    )


def reminder_text(i18n: I18n, locale: Locale, reminders: Sequence[Reminder], now: datetime) -> str:
    """One message for every contest due for this recipient at this moment."""
    with i18n.context(), i18n.use_locale(locale.language):
        grouped = len(reminders) > 1
        if not grouped:
            header = _("⏰ Starting {when}:").format(when=relative(reminders[0].contest.start, now))
        else:
            header = ngettext("⏰ {count} contest starts soon:", "⏰ {count} contests start soon:",
                              len(reminders)).format(count=len(reminders))
            header += "\n" + times_in(locale.timezone, locale.language, now)
        lines = [header]
        if any(reminder.late for reminder in reminders):
            lines.append(_("(Late: we could not send this on time, sorry.)"))
        lines += [contest_line(r.contest, locale, now, zone_in_header=grouped)
                  for r in sorted(reminders, key=lambda r: r.contest.start)]
        return "\n\n".join(lines)


def notice_text(i18n: I18n, locale: Locale, notice: Notice, now: datetime) -> str:
    contest = notice.contest
    zone = zone_of(locale.timezone)
    with i18n.context(), i18n.use_locale(locale.language):
        title = f"<b>{escape(contest.title)}</b>"
        if notice.kind == "cancelled":
            return _("❌ {title} on {site} was cancelled.").format(title=title, site=escape(contest.site_label))
        old = local_time(notice.old_start, zone, locale.language) if notice.old_start else "?"
        return _("🔁 {title} moved: {old} → {new} ({relative}).").format(
            title=title, old=old, new=local_time(contest.start, zone, locale.language),
            relative=relative(contest.start, now))


def snooze_label(i18n: I18n, language: str, minutes: int) -> str:
    with i18n.context(), i18n.use_locale(language):
        return _("🔔 Again in {minutes} min").format(minutes=minutes)


def at_start_label(i18n: I18n, language: str) -> str:
    with i18n.context(), i18n.use_locale(language):
        return _("🔔 Remind me at the start")


def open_label(i18n: I18n, language: str) -> str:
    with i18n.context(), i18n.use_locale(language):
        return _("Open the contest")


def discord_gone_text(i18n: I18n, language: str) -> str:
    with i18n.context(), i18n.use_locale(language):
        return _("Discord no longer accepts this chat's webhook (it was deleted or its URL was reset), so reminders "
                 "stopped going there. Send /discord with a new webhook URL to connect again.")
