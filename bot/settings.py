"""/settings: everything about this chat in one message, with a button into each setting's own screen. A button
draws that screen over this message (bot/screens.py), and its "« Back" draws this one again."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.calendar import calendar_summary
from bot.digest import digest_summary
from bot.discord import discord_summary
from bot.email import address_of, email_summary
from bot.screens import OpenSection, redraw
from bot.start import settings_summary
from models.account import Account
from notify.formatting import span

#: (section = the command that owns the screen, button label), in the order the buttons appear
SECTIONS = (
    ("sites", __("Sites")),
    ("remind", __("Reminders")),
    ("filter", __("Filters")),
    ("timezone", __("Time zone")),
    ("language", __("Language")),
    ("email", __("Email")),
    ("discord", __("Discord")),
    ("digest", __("Digest")),
    ("calendar", __("Calendar")),
)


def words(keywords: list[str]) -> str:
    return ", ".join(escape(word) for word in keywords)


def keywords_summary(account: Account) -> list[str]:
    lines = []
    if account.include_keywords:
        lines.append(_("Only contests whose title has one of: {words}").format(words=words(account.include_keywords)))
    if account.exclude_keywords:
        lines.append(_("Skip contests whose title has: {words}").format(words=words(account.exclude_keywords)))
    return lines or [_("Keywords: none")]


def durations_summary(account: Account) -> str:
    low, high = account.min_duration, account.max_duration
    if low is not None and high is not None:
        return _("Duration: from {min} to {max}").format(min=span(low), max=span(high))
    if low is not None:
        return _("Duration: at least {min}").format(min=span(low))
    if high is not None:
        return _("Duration: at most {max}").format(max=span(high))
    return _("Duration: any")


def status_line(account: Account) -> str:
    if account.paused:
        return _("Reminders are paused: send /start to resume them.")
    return _("Reminders are on: /stop pauses them.")


async def channels_summary(account: Account) -> list[str]:
    """Where reminders go besides this chat: email, Discord, the digest and the calendar feed."""
    return [email_summary(await address_of(account)), await discord_summary(account), digest_summary(account),
            calendar_summary(account)]


async def settings_text(account: Account) -> str:
    return "\n".join((
        _("<b>Settings of this chat</b>"),
        "",
        await settings_summary(account),
        *keywords_summary(account),
        durations_summary(account),
        "",
        *await channels_summary(account),
        "",
        status_line(account),
        _("Tap a button to change a setting."),
    ))


def sections_keyboard() -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=str(label), callback_data=OpenSection(section=section).pack())
               for section, label in SECTIONS]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])


async def show_settings(message: Message, account: Account) -> None:
    await message.answer(await settings_text(account), reply_markup=sections_keyboard())


async def open_settings(callback: CallbackQuery, account: Account) -> None:
    """The Back button of every section: /settings again, in place."""
    await redraw(callback, await settings_text(account), sections_keyboard())
    await callback.answer()


def make_router() -> Router:
    router = Router(name="settings")
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(open_settings, OpenSection.filter(F.section == "settings"))
    return router
