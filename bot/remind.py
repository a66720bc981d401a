"""/remind: when reminders go out, as offsets before a contest's start ("1d 1h 10m"), with preset toggles.

Offsets are stored in seconds, largest first, in `account.reminder_offsets`; an empty list means off.
"""

from __future__ import annotations

import re
from html import escape
from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen
from models.account import Account
from notify.formatting import span
from notify.preferences import DAY, HOUR, LONGEST_OFFSET, MAX_OFFSETS, MINUTE, SHORTEST_OFFSET

UNITS = {"m": MINUTE, "h": HOUR, "d": DAY}
#: the offsets offered as toggle buttons
PRESETS = (DAY, 3 * HOUR, HOUR, 30 * MINUTE, 10 * MINUTE)
OFF_WORDS = frozenset({"off", "none"})

_DURATION = re.compile(r"(?:\d+[mhd])+", re.IGNORECASE)
_PART = re.compile(r"(\d+)([mhd])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;]+")


class BadDuration(ValueError):
    """A token that is not a usable length of time; `problem` says why: "unreadable", "range" or "too_many"."""

    def __init__(self, token: str, problem: str = "unreadable") -> None:
        super().__init__(f"{problem}: {token!r}")
        self.token, self.problem = token, problem


def parse_duration(token: str) -> int:
    """Seconds in a length written with m, h and d units: "10m", "3h", "1d", "1h30m", "1d12h"."""
    if not _DURATION.fullmatch(token):
        raise BadDuration(token)
    return sum(int(amount) * UNITS[unit.lower()] for amount, unit in _PART.findall(token))


def parse_offsets(text: str) -> list[int]:
    """Reminder offsets in seconds, largest first, duplicates collapsed: "1d 1h 10m" -> [86400, 3600, 600];
    "off" -> []. Each is 1 minute to 7 days, at most 5 of them; anything else raises BadDuration."""
    tokens = [token for token in _SEPARATORS.split(text.strip()) if token]
    if not tokens:
        raise BadDuration("", "unreadable")
    if len(tokens) == 1 and tokens[0].lower() in OFF_WORDS:
        return []
    offsets: set[int] = set()
    for token in tokens:
        seconds = parse_duration(token)
        if not SHORTEST_OFFSET <= seconds <= LONGEST_OFFSET:
            raise BadDuration(token, "range")
        offsets.add(seconds)
        if len(offsets) > MAX_OFFSETS:
            raise BadDuration(token, "too_many")
    return sorted(offsets, reverse=True)


def toggled(offsets: list[int], offset: int) -> list[int]:
    """The offsets with one switched on or off (largest first); BadDuration when that makes too many."""
    chosen = set(offsets) ^ {offset}
    if len(chosen) > MAX_OFFSETS:
        raise BadDuration(str(offset), "too_many")
    return sorted(chosen, reverse=True)


class RemindToggle(CallbackData, prefix="remind"):
    """A preset's button: the offset in seconds, within the range the command accepts."""

    offset: Annotated[int, Field(ge=SHORTEST_OFFSET, le=LONGEST_OFFSET)]


def describe(offsets: list[int]) -> str:
    """"Reminders: 1 d, 1 h before the start" or "Reminders: off"."""
    if not offsets:
        return _("Reminders: off")
    shown = ", ".join(span(offset) for offset in sorted(offsets, reverse=True))
    return _("Reminders: {offsets} before the start").format(offsets=shown)


def problem_text(error: BadDuration) -> str:
    if error.problem == "range":
        return _("“{token}” is out of range: a reminder can be 1 minute to 7 days before the start.").format(
            token=escape(error.token))
    if error.problem == "too_many":
        return _("That is too many: at most {n} reminders.").format(n=MAX_OFFSETS)
    if not error.token:
        return _("Say when, e.g. /remind 1d 1h 10m, or /remind off.")
    return _("I can't read “{token}”: write times like 10m, 3h, 1d or 1h30m.").format(
        token=escape(error.token))


def remind_screen(offsets: list[int]) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n\n".join((
        describe(offsets),
        _("Press a button to switch a reminder on or off, or send your own times: /remind 1d 1h 10m "
          "(m, h, d; up to {n}). /remind off turns reminders off.").format(n=MAX_OFFSETS),
    ))
    buttons = [
        InlineKeyboardButton(text=("✓ " if offset in offsets else "") + span(offset),
                             callback_data=RemindToggle(offset=offset).pack())
        for offset in PRESETS
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=[buttons])


async def show_reminders(message: Message, account: Account) -> None:
    text, keyboard = remind_screen(account.reminder_offsets)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def set_reminders(message: Message, command: CommandObject, account: Account) -> None:
    try:
        offsets = parse_offsets(command.args or "")
    except BadDuration as error:
        await message.reply(problem_text(error) + "\n" + _("Nothing changed."))
        return
    await save_offsets(account, offsets)
    text, keyboard = remind_screen(offsets)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def toggle_preset(callback: CallbackQuery, callback_data: RemindToggle, account: Account) -> None:
    try:
        offsets = toggled(account.reminder_offsets, callback_data.offset)
    except BadDuration as error:
        await callback.answer(problem_text(error), show_alert=True)
        return
    await save_offsets(account, offsets)
    await callback.answer(describe(offsets))
    await edit_screen(callback, *remind_screen(offsets))


async def open_reminders(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    text, keyboard = remind_screen(account.reminder_offsets)
    await callback.message.answer(text, reply_markup=keyboard)


async def save_offsets(account: Account, offsets: list[int]) -> None:
    account.reminder_offsets = offsets
    await account.save(update_fields=["reminder_offsets"])


def make_router() -> Router:
    router = Router(name="remind")
    router.message.register(set_reminders, Command("remind", magic=F.args))
    router.message.register(show_reminders, Command("remind"))
    router.callback_query.register(toggle_preset, RemindToggle.filter())
    router.callback_query.register(open_reminders, OpenSection.filter(F.section == "remind"))
    return router
