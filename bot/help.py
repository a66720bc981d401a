"""/help: every command of the menu (bot/commands.py: the one list of commands, so help and menu never drift
apart) with its menu description, then examples to copy."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.commands import COMMANDS

#: commands with their arguments, typed as they are (commands are not translated)
EXAMPLES = (
    "/upcoming atcoder codeforces",
    "/remind 1d 1h 10m · /remind off",
    "/filter include div 2 · /filter max 5h · /filter clear",
    "/subscribe leetcode · /unsubscribe leetcode",
    "/timezone Europe/Berlin · /timezone UTC+3",
    "/digest daily 08:00 · /digest weekly mon 18:30 · /digest off",
)


def command_lines() -> list[str]:
    """One line per command of the menu, in the language in force."""
    return [f"/{name} — {escape(str(description), quote=False)}" for name, description in COMMANDS]


def help_text(bot_username: str) -> str:
    return "\n".join((
        _("<b>What I can do</b>"),
        "",
        *command_lines(),
        "",
        _("<b>Examples</b>"),
        *EXAMPLES,
        "",
        _("In any chat, type @{bot} or @{bot} codeforces to share upcoming contests.").format(bot=bot_username),
        _("In groups, only administrators can change the settings."),
    ))


async def show_help(message: Message) -> None:
    me = await message.bot.me()
    await message.answer(help_text(me.username or "bot"))


def make_router() -> Router:
    router = Router(name="help")
    router.message.register(show_help, Command("help"))
    return router
