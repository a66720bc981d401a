"""A feature's screen is a message with its keyboard. /settings opens any of them with `OpenSection` by drawing it
over the settings message (`open_screen`), with a "« Back" button that draws /settings there again; a button
press on a screen redraws it in place with `edit_screen`, which keeps that Back button. Opened by its command, a
screen is a new message of its own, without Back."""

from __future__ import annotations

from html import escape
from typing import Literal

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from notify.rules import SettingProblem

#: the screens a button can open: the commands that own them
Section = Literal["settings", "upcoming", "sites", "remind", "filter", "timezone", "language", "email", "discord",
                  "digest", "calendar"]


class OpenSection(CallbackData, prefix="open"):
    """Show a feature's screen as its command without arguments would (`section` is the command name)."""

    section: Section


#: the Back button's data: it redraws /settings
BACK = OpenSection(section="settings").pack()


def refusal_text(problem: SettingProblem) -> str:
    """A refused setting as the bot says it (HTML): the shared rule's message, then that nothing changed."""
    return escape(problem.text(), quote=False) + "\n" + _("Nothing changed.")


def with_back(keyboard: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup:
    """The keyboard with a last row holding the "« Back" button to /settings."""
    rows = list(keyboard.inline_keyboard) if keyboard else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [InlineKeyboardButton(text=_("« Back"), callback_data=BACK)]])


def shows_back(message: object) -> bool:
    """Whether a message of ours carries the Back button (the screen was opened from /settings)."""
    keyboard = getattr(message, "reply_markup", None)
    return keyboard is not None and any(button.callback_data == BACK
                                        for row in keyboard.inline_keyboard for button in row)


async def redraw(callback: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the text and keyboard of the message the button belongs to (a new message when that one is too old
    to edit; an edit that changes nothing is fine)."""
    if not isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=keyboard)
        return
    try:
        await callback.message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise


async def edit_screen(callback: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Redraw the screen the button belongs to, keeping its Back button when it has one."""
    await redraw(callback, text, with_back(keyboard) if shows_back(callback.message) else keyboard)


async def open_screen(callback: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Draw a section's screen over the message whose button opened it, with Back to /settings."""
    await redraw(callback, text, with_back(keyboard))
