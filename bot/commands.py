"""The command menu the bot registers with Telegram (setMyCommands): at start, the default menu and one per
language it speaks (for users whose Telegram speaks it); after /language, the chat's own menu in the chat's
language. `COMMANDS` is the one list of commands (/help reads it too)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from notify.i18n import languages

log = logging.getLogger(__name__)

COMMANDS = (
    ("upcoming", __("Next contests (optionally of some sites)")),
    ("sites", __("Choose the sites to follow")),
    ("remind", __("When to remind: /remind 1d 1h 10m")),
    ("filter", __("Keywords and duration limits")),
    ("timezone", __("Your time zone: /timezone Tokyo")),
    ("language", __("Language of the bot")),
    ("settings", __("All settings at a glance")),
    ("email", __("Email reminders: /email you@example.org")),
    ("digest", __("Email digest: /digest daily 08:00")),
    ("discord", __("Reminders in a Discord channel too: /discord WEBHOOK_URL")),
    ("calendar", __("Your contests in Google Calendar (iCal feed link)")),
    ("link", __("Sign in on the web with this chat")),
    ("stop", __("Pause all reminders")),
    ("start", __("Start, or resume reminders")),
    ("help", __("What each command does")),
    ("forget", __("Delete everything about this chat")),
)


def bot_commands(i18n: I18n, language: str) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(language):
        return [BotCommand(command=name, description=str(description)) for name, description in COMMANDS]


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """The default menu in the default language, and one per other language for users who speak it."""
    await bot.set_my_commands(bot_commands(i18n, i18n.default_locale))
    for language in languages(i18n):
        if language != i18n.default_locale:
            await bot.set_my_commands(bot_commands(i18n, language), language_code=language)


async def set_chat_commands(bot: Bot, i18n: I18n, chat_id: int, language: str) -> None:
    """The chat's menu in the chat's language. A refusal (the chat is gone, Telegram is down) costs only the
    menu: it is logged in one line, and whatever called this carries on."""
    try:
        await bot.set_my_commands(bot_commands(i18n, language), scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as error:
        log.warning("setMyCommands for chat %s in %s failed: %s", chat_id, language, error)


async def drop_chat_commands(bot: Bot, chat_id: int) -> None:
    """Back to the default menus for a chat the bot forgot (deleteMyCommands for its scope); a refusal is one log
    line, as for `set_chat_commands`."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as error:
        log.warning("deleteMyCommands for chat %s failed: %s", chat_id, error)
