"""/language [CODE]: the language the bot speaks in this chat, and of the chat's command menu. The choice is
every catalog in locales/, so a new language needs a catalog and nothing here."""

from __future__ import annotations

from html import escape
from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.commands import set_chat_commands
from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen
from bot.stale import out_of_date
from models.account import Account
from notify.i18n import language_name, languages
from notify.rules import SettingProblem, parse_language


class LanguagePick(CallbackData, prefix="lang"):
    code: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]  # and one we speak: the handler knows which


def languages_keyboard(available: list[str], current: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=("✓ " if code == current else "") + language_name(code),
                                    callback_data=LanguagePick(code=code).pack()) for code in available]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def language_hint(account: Account, available: list[str]) -> str:
    return _("Pick a language below, or send its code, e.g. /language {example}.").format(
        example=next((code for code in available if code != account.language), account.language))


def language_screen(account: Account, available: list[str]) -> str:
    return "\n".join((
        _("I speak {language} in this chat.").format(language=language_name(account.language)),
        language_hint(account, available),
    ))


def language_set_text(i18n: I18n, code: str) -> str:
    """The confirmation, in the language just chosen."""
    with i18n.use_locale(code):
        return _("From now on I speak {language} in this chat.").format(language=language_name(code))


async def save_language(account: Account, code: str) -> None:
    account.language = code
    await account.save(update_fields=["language"])


async def language_command(message: Message, command: CommandObject, account: Account, i18n: I18n) -> None:
    available = languages(i18n)
    if not (command.args or "").strip():
        await message.answer(language_screen(account, available),
                             reply_markup=languages_keyboard(available, account.language))
        return
    await set_language(message, command.args.strip(), account, i18n)


@admins_only
async def set_language(message: Message, typed: str, account: Account, i18n: I18n) -> None:
    available = languages(i18n)
    try:
        code = parse_language(typed, available)
    except SettingProblem as problem:
        refusal = (escape(problem.text(), quote=False), _("Nothing changed."), language_hint(account, available))
        await message.answer("\n".join(refusal), reply_markup=languages_keyboard(available, account.language))
        return
    await save_language(account, code)
    await message.answer(language_set_text(i18n, code))
    await set_chat_commands(message.bot, i18n, message.chat.id, code)


@admins_only
async def pick_language(callback: CallbackQuery, callback_data: LanguagePick, account: Account, i18n: I18n) -> None:
    available = languages(i18n)
    if callback_data.code not in available:  # a language this server no longer speaks
        await out_of_date(callback)
        return
    await save_language(account, callback_data.code)
    text = language_set_text(i18n, callback_data.code)
    await edit_screen(callback, text, languages_keyboard(available, callback_data.code))
    await callback.answer(text)
    await set_chat_commands(callback.bot, i18n, callback.message.chat.id, callback_data.code)


async def open_language(callback: CallbackQuery, account: Account, i18n: I18n) -> None:
    available = languages(i18n)
    await open_screen(callback, language_screen(account, available), languages_keyboard(available, account.language))
    await callback.answer()


def make_router() -> Router:
    router = Router(name="language")
    router.message.register(language_command, Command("language"))
    router.callback_query.register(pick_language, LanguagePick.filter())
    router.callback_query.register(open_language, OpenSection.filter(F.section == "language"))
    return router
