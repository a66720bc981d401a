"""/calendar: the address of this chat's personal iCal feed (its contests by its settings) to paste into Google
Calendar or any calendar app, and a button that replaces the address with a new one when it has leaked: the old
one stops working at once. In groups only administrators may reset it.

The process gives the bot the public base URL of the web app as dispatcher data `base_url`.
"""

from __future__ import annotations

import base64
from hashlib import blake2b
from html import escape
from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen
from bot.stale import out_of_date
from models.account import Account

#: where the web app serves personal feeds (web/feeds.py PERSONAL_PATH; bot does not import web)
FEED_PATH = "/calendar/{token}.ics"


class CalendarReset(CallbackData, prefix="calendar-reset"):
    """The "Reset link" button: asks first (no fields: it always means this chat's feed)."""


class CalendarResetYes(CallbackData, prefix="calendar-yes"):
    """"Yes" under the question: `link` names the link it would replace (`link_tag`), so a Yes left over from
    before another reset (or a forged one) matches no link and is out of date."""

    link: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8}$")]


class CalendarCancel(CallbackData, prefix="calendar-keep"):
    """"Cancel" under the question: back to the calendar screen, the link unchanged."""


def link_tag(token: str) -> str:
    """8 characters of a hash of the feed's token: names the link without showing it."""
    return base64.urlsafe_b64encode(blake2b(token.encode(), digest_size=6).digest()).decode()


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)


def calendar_summary(account: Account) -> str:
    """The line of /settings: "Calendar feed: on" once /calendar has made the link."""
    return _("Calendar feed: on") if account.calendar_token else _("Calendar feed: not made yet")


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


def confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Yes, reset"), callback_data=CalendarResetYes(link=link_tag(token)).pack()),
        InlineKeyboardButton(text=_("Cancel"), callback_data=CalendarCancel().pack()),
    ]])


def no_feed_text() -> str:
    return _("Calendar feeds are not available on this server.")


async def calendar_screen(account: Account, base_url: str | None) -> tuple[str, InlineKeyboardMarkup | None]:
    """The feed's address with the reset button (the link is made on first use)."""
    if base_url is None:
        return no_feed_text(), None
    return calendar_text(feed_url(base_url, await account.calendar_feed_token())), reset_keyboard()


async def calendar_command(message: Message, account: Account, base_url: str | None = None) -> None:
    text, keyboard = await calendar_screen(account, base_url)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def ask_to_reset(callback: CallbackQuery, account: Account, base_url: str | None = None) -> None:
    if base_url is None:
        await callback.answer(no_feed_text(), show_alert=True)
        return
    question = _("Reset the link? The old link stops working: calendars that use it stop updating until you add "
                 "the new one.")
    await edit_screen(callback, question, confirm_keyboard(await account.calendar_feed_token()))
    await callback.answer()


@admins_only
async def reset_link(callback: CallbackQuery, callback_data: CalendarResetYes, account: Account,
                     base_url: str | None = None) -> None:
    if account.calendar_token is None or callback_data.link != link_tag(account.calendar_token):
        await out_of_date(callback)
        return
    if base_url is None:
        await callback.answer(no_feed_text(), show_alert=True)
        return
    url = feed_url(base_url, await account.reset_calendar_token())
    await edit_screen(callback, calendar_text(url), reset_keyboard())
    await callback.answer(_("New link made: the old one no longer works."))


async def keep_link(callback: CallbackQuery, account: Account, base_url: str | None = None) -> None:
    await edit_screen(callback, *await calendar_screen(account, base_url))
    await callback.answer(_("Nothing changed: the link still works."))


async def open_calendar(callback: CallbackQuery, account: Account, base_url: str | None = None) -> None:
    await open_screen(callback, *await calendar_screen(account, base_url))
    await callback.answer()


def make_router() -> Router:
    router = Router(name="calendar")
    router.message.register(calendar_command, Command("calendar"))
    router.callback_query.register(ask_to_reset, CalendarReset.filter())
    router.callback_query.register(reset_link, CalendarResetYes.filter())
    router.callback_query.register(keep_link, CalendarCancel.filter())
    router.callback_query.register(open_calendar, OpenSection.filter(F.section == "calendar"))
    return router
