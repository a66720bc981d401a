"""/calendar: the address of this chat's personal iCal feed (its contests by its settings) to paste into Google
Calendar or any calendar app, and a button that replaces the address with a new one when it has leaked: the old
one stops working at once. In groups only administrators may reset it.

The process gives the bot the public base URL of the web app as dispatcher data `base_url`.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen
from models.account import Account

#: where the web app serves personal feeds (web/feeds.py PERSONAL_PATH; bot does not import web)
FEED_PATH = "/calendar/{token}.ics"


class CalendarReset(CallbackData, prefix="calendar-reset"):
    """The "Reset link" button (no fields: it always means this chat's feed)."""


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)


def calendar_text(url: str) -> str:
    return "\n".join((
        _("<b>Your calendar feed</b>: your contests, chosen by this chat's settings, in any calendar app."),
        "",
        f"<code>{escape(url)}</code>",
        "",
        _("Google Calendar: Other calendars → + → From URL, paste the link. Calendar apps fetch it again on their "
          "own (Google every few hours), so moved contests move there too."),
        _("Anyone with the link sees the list. If it has leaked, reset it: the old link stops working."),
    ))


def reset_keyboard() -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=_("Reset link"), callback_data=CalendarReset().pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def no_feed_text() -> str:
    return _("Calendar feeds are not available on this server.")


async def calendar_command(message: Message, account: Account, base_url: str | None = None) -> None:
    if base_url is None:
        await message.answer(no_feed_text())
        return
    url = feed_url(base_url, await account.calendar_feed_token())
    await message.answer(calendar_text(url), reply_markup=reset_keyboard())


@admins_only
async def reset_link(callback: CallbackQuery, account: Account, base_url: str | None = None) -> None:
    if base_url is None:
        await callback.answer(no_feed_text(), show_alert=True)
        return
    url = feed_url(base_url, await account.reset_calendar_token())
    await edit_screen(callback, calendar_text(url), reset_keyboard())
    await callback.answer(_("New link made: the old one no longer works."))


async def open_calendar(callback: CallbackQuery, account: Account, base_url: str | None = None) -> None:
    if isinstance(callback.message, Message):
        await calendar_command(callback.message, account, base_url)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="calendar")
    router.message.register(calendar_command, Command("calendar"))
    router.callback_query.register(reset_link, CalendarReset.filter())
    router.callback_query.register(open_calendar, OpenSection.filter(F.section == "calendar"))
    return router
