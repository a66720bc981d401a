"""Assembles the bot: the Bot client (API base from settings) and a Dispatcher with every feature router.

Routers attach to one dispatcher only, so each feature module builds its router on demand.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n

from bot import (
    calendar,
    digest,
    discord,
    email,
    errors,
    fallback,
    filters,
    forget,
    help,
    inline,
    language,
    linking,
    membership,
    remind,
    settings,
    sites,
    snooze,
    stale,
    start,
    timezone,
    upcoming,
)
from bot.channels import ChannelPostsAsMessages
from bot.commands import register_commands
from bot.middlewares import AccountLanguage, ChatAccount, FloodControl

FEATURES = (linking, start, help, upcoming, inline, sites, remind, filters, timezone, language, settings, email,
            digest, discord, calendar, snooze, forget, membership, stale, fallback)


def make_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True))


def make_dispatcher(i18n: I18n) -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(ChannelPostsAsMessages())
    dispatcher.update.outer_middleware(FloodControl(i18n))
    dispatcher.update.outer_middleware(ChatAccount(i18n))
    dispatcher.update.outer_middleware(AccountLanguage(i18n))
    dispatcher.callback_query.outer_middleware(stale.ButtonsOnMessagesOnly())
    for feature in FEATURES:
        dispatcher.include_router(feature.make_router())
    dispatcher.errors.register(errors.apology_handler(i18n))

    async def on_startup(bot: Bot) -> None:
        await register_commands(bot, i18n)

    dispatcher.startup.register(on_startup)
    return dispatcher
