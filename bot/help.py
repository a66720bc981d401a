"""/help: what each command does, with examples."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _


def help_text() -> str:
    return "\n".join((
        _("<b>What I can do</b>"),
        "",
        _("/upcoming — the next 10 contests that match your settings; /upcoming atcoder codeforces for some sites"),
        _("/sites — pick sites with buttons; /subscribe leetcode and /unsubscribe leetcode do it by text"),
        _("/remind — show when I remind you; /remind 1d 1h 10m sets it (m, h, d; up to 5); /remind off"),
        _("/filter — keywords and durations: /filter include div. 2, /filter exclude kotlin, /filter max 5h, "
          "/filter min 30m, /filter clear"),
        _("/timezone Europe/Berlin or /timezone UTC+3 — times are shown in your zone"),
        _("/language — English or Russian"),
        _("/settings — everything at a glance, with buttons"),
        _("/email you@example.org — reminders by email too"),
        _("/digest daily 08:00 or /digest weekly mon 18:30 — one email with the contests ahead; /digest off"),
        _("/discord WEBHOOK_URL — reminders in a Discord channel too; /discord off"),
        _("/calendar — a link to your contests for Google Calendar or any calendar app"),
        _("/stop — pause reminders (settings are kept); /start — resume"),
        _("/link — a one-time address to sign in on the web with this chat"),
        _("/forget — delete everything about this chat"),
        "",
        _("In any chat, type @{bot} or @{bot} codeforces to share upcoming contests."),
        _("In groups, only administrators can change the settings."),
    ))


async def show_help(message: Message) -> None:
    me = await message.bot.me()
    await message.answer(help_text().replace("{bot}", me.username or "bot"))


def make_router() -> Router:
    router = Router(name="help")
    router.message.register(show_help, Command("help"))
    return router
