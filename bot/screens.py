"""A feature's screen is a message with its keyboard: /settings opens any of them with `OpenSection`, and a
button press redraws its own screen in place with `edit_screen`."""

from __future__ import annotations

from html import escape
from typing import Literal

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from notify.rules import SettingProblem

#: the screens a button can open: the commands that own them
Section = Literal["settings", "upcoming", "sites", "remind", "filter", "timezone", "language", "email", "calendar"]


class OpenSection(CallbackData, prefix="open"):
    """Show a feature's screen as its command without arguments would (`section` is the command name)."""

    section: Section


def refusal_text(problem: SettingProblem) -> str:
    """A refused setting as the bot says it (HTML): the shared rule's message, then that nothing changed."""
    return escape(problem.text(), quote=False) + "\n" + _("Nothing changed.")


async def edit_screen(callback: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Redraw the screen the button belongs to (a new message when that one is too old to edit)."""
    if not isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=keyboard)
        return
    try:
        await callback.message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise
