"""Wires the Telegram bot into a process: webhook on the web app when a public URL is set, long polling
otherwise; commands registered on start; nothing at all without a token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from bot.app import make_bot, make_dispatcher
from bot.webhook import CheckedWebhook
from contestbell.secret_key import SecretKeyProblem
from contestbell.settings import Settings
from notify.addresses import Mailer
from notify.discord import DiscordChannel
from notify.email import EmailSender, SmtpServer
from notify.i18n import make_i18n

WEBHOOK_PATH = "/telegram/webhook"
log = logging.getLogger("contestbell.telegram")


def mailer(settings: Settings, i18n: I18n) -> Mailer | None:
    """The SMTP sender and the base URL for links, or None when email is not configured."""
    if not settings.smtp_host:
        return None
    server = SmtpServer(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                        settings.smtp_starttls)
    sender = EmailSender(server, settings.smtp_from or f"contestbell <contestbell@{settings.smtp_host}>")
    return Mailer(sender, i18n, settings.base_url())


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the secret key (Telegram allows [A-Za-z0-9_-])."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    if settings.secret_key is None:  # the process kinds resolve the key first (contestbell.secret_key)
        raise SecretKeyProblem("no CONTESTBELL_SECRET_KEY to derive the Telegram webhook secret from")
    return hmac.new(settings.secret_key.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()


def attach_webhook(app: web.Application, dispatcher: Dispatcher, bot: Bot, secret: str,
                   public_url: str | None = None) -> None:
    """Serve updates at /telegram/webhook (401 without the right secret header); with a public URL,
    tell Telegram about it when the app starts."""
    CheckedWebhook(dispatcher, bot, secret_token=secret).register(app, path=WEBHOOK_PATH)
    setup_application(app, dispatcher, bot=bot)
    if public_url:
        async def set_webhook(bot: Bot) -> None:
            await bot.set_webhook(public_url.rstrip("/") + WEBHOOK_PATH, secret_token=secret,
                                  allowed_updates=dispatcher.resolve_used_update_types())

        dispatcher.startup.register(set_webhook)


@asynccontextmanager
async def telegram_bot(settings: Settings, app: web.Application, *, may_poll: bool) -> AsyncIterator[None]:
    """The bot for a process whose web app is `app` (before it starts serving)."""
    if not settings.telegram_token:
        log.info("no CONTESTBELL_TELEGRAM_TOKEN: the Telegram bot is off")
        yield
        return
    bot = make_bot(settings.telegram_token, settings.telegram_api_base)
    i18n = make_i18n()
    dispatcher = make_dispatcher(i18n)
    dispatcher["email"] = mailer(settings, i18n)
    dispatcher["base_url"] = settings.base_url()  # personal calendar feed links (/calendar)
    discord = DiscordChannel(i18n, settings.discord_api_base)  # /discord sends its test message through it
    dispatcher["discord"] = discord
    try:
        async with bot_serving(settings, app, dispatcher, bot, may_poll=may_poll):
            yield
    finally:
        await discord.aclose()


@asynccontextmanager
async def bot_serving(settings: Settings, app: web.Application, dispatcher: Dispatcher, bot: Bot, *,
                      may_poll: bool) -> AsyncIterator[None]:
    """Updates by webhook when the service has a public URL, else by long polling (where the process may)."""
    if settings.public_url:
        attach_webhook(app, dispatcher, bot, webhook_secret(settings), settings.public_url)
        log.info("Telegram bot: webhook at %s%s", settings.public_url.rstrip("/"), WEBHOOK_PATH)
        yield
        return
    if not may_poll:
        log.warning("Telegram bot off in this process: set CONTESTBELL_PUBLIC_URL for the webhook")
        await bot.session.close()
        yield
        return
    async with polling(dispatcher, bot):
        yield


@asynccontextmanager
async def polling(dispatcher: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    try:
        await bot.delete_webhook(drop_pending_updates=False)
    except (TelegramAPIError, TelegramNetworkError) as error:  # polling retries on its own; say why it waits
        log.warning("Telegram is not answering yet (%s); long polling keeps trying", error)
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=True))
    log.info("Telegram bot: long polling")
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await asyncio.gather(task, return_exceptions=True)
