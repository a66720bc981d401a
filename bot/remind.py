"""/remind: when reminders go out, as offsets before a contest's start ("1d 1h 10m"), with preset toggles.

Offsets are stored in seconds, largest first, in `account.reminder_offsets`; an empty list means off.
"""

from __future__ import annotations

from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen, refusal_text
from models.account import Account
from notify.formatting import span
from notify.preferences import DAY, HOUR, LONGEST_OFFSET, MAX_OFFSETS, MINUTE, SHORTEST_OFFSET
from notify.rules import SettingProblem, TooManyReminders, parse_offsets

#: the offsets offered as toggle buttons, in two rows that fit a phone's width
PRESETS = (DAY, 3 * HOUR, HOUR, 30 * MINUTE, 10 * MINUTE)
PRESETS_PER_ROW = 3


def toggled(offsets: list[int], offset: int) -> list[int]:
    """The offsets with one switched on or off (largest first); TooManyReminders when that makes too many."""
    chosen = set(offsets) ^ {offset}
    if len(chosen) > MAX_OFFSETS:
        raise TooManyReminders(str(offset))
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
    rows = [buttons[i:i + PRESETS_PER_ROW] for i in range(0, len(buttons), PRESETS_PER_ROW)]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def show_reminders(message: Message, account: Account) -> None:
    text, keyboard = remind_screen(account.reminder_offsets)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def set_reminders(message: Message, command: CommandObject, account: Account) -> None:
    try:
        offsets = parse_offsets(command.args or "")
    except SettingProblem as problem:
        await message.reply(refusal_text(problem))
        return
    await save_offsets(account, offsets)
    text, keyboard = remind_screen(offsets)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def toggle_preset(callback: CallbackQuery, callback_data: RemindToggle, account: Account) -> None:
    try:
        offsets = toggled(account.reminder_offsets, callback_data.offset)
    except SettingProblem as problem:
        await callback.answer(problem.text(), show_alert=True)
        return
    await save_offsets(account, offsets)
    await callback.answer(describe(offsets))
    await edit_screen(callback, *remind_screen(offsets))


async def open_reminders(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    await open_screen(callback, *remind_screen(account.reminder_offsets))


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
