"""Wires people's web accounts into a web process: the session store (Redis when configured), the sign-in
providers from the settings, the bot behind the Telegram Login Widget, and the mailer for email addresses."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import redis.asyncio as aioredis
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from bot.app import make_bot
from contestbell.reminders import telegram_sender
from contestbell.settings import Settings
from contestbell.telegram import mailer
from notify.discord import DiscordChannel
from notify.i18n import make_i18n
from web.app import Accounts
from web.signin import Provider, SignInOptions, TelegramLogin

log = logging.getLogger("contestbell.accounts")
#: how long a page waits for the bot's name, and how long after a failure it is asked again (seconds)
WAIT, RETRY_AFTER = 3.0, 60.0


def providers(settings: Settings) -> tuple[Provider, ...]:
    """The sign-in providers whose settings are complete (a half-configured one is left out, and said)."""
    found = []
    oidc = (settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret)
    if all(oidc):
        found.append(Provider("oidc", settings.oidc_name, "oidc", settings.oidc_client_id or "",
                              settings.oidc_client_secret or "", issuer=settings.oidc_issuer or ""))
    elif any(oidc):
        log.warning("OpenID Connect sign-in is off: set CONTESTBELL_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET")
    github = (settings.github_client_id, settings.github_client_secret)
    if all(github):
        found.append(Provider("github", "GitHub", "github", settings.github_client_id or "",
                              settings.github_client_secret or "", github_url=settings.github_url.rstrip("/"),
                              github_api=settings.github_api_url.rstrip("/")))
    elif any(github):
        log.warning("GitHub sign-in is off: set both CONTESTBELL_GITHUB_CLIENT_ID and CONTESTBELL_GITHUB_CLIENT_SECRET")
    return tuple(found)


class BotName:
    """The bot's username (for the Login Widget and t.me links), asked from Telegram once, when a page first needs
    it. While Telegram does not answer it is None, asked again at most once a minute, and a page never waits for
    it more than a few seconds."""

    def __init__(self, settings: Settings) -> None:
        self._bot = make_bot(settings.telegram_token or "", settings.telegram_api_base)
        self._name: str | None = None
        self._failed_at = -RETRY_AFTER

    async def __call__(self) -> str | None:
        if self._name is None and time.monotonic() - self._failed_at >= RETRY_AFTER:
            try:
                async with asyncio.timeout(WAIT):
                    self._name = (await self._bot.me()).username
            except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
                self._failed_at = time.monotonic()
                log.warning("the bot's name is unknown for now (getMe failed: %s)", type(error).__name__)
        return self._name

    async def close(self) -> None:
        await self._bot.session.close()


@asynccontextmanager
async def web_accounts(settings: Settings) -> AsyncIterator[Accounts]:
    async with AsyncExitStack() as stack:
        redis = aioredis.Redis.from_url(settings.redis_url) if settings.redis_url else None
        if redis is not None:
            stack.push_async_callback(redis.aclose)
        telegram = None
        if settings.telegram_token:
            name = BotName(settings)
            stack.push_async_callback(name.close)
            telegram = TelegramLogin(settings.telegram_token, name)
        i18n = make_i18n()
        discord = DiscordChannel(i18n, settings.discord_api_base)  # the test message of a webhook added on /account
        stack.push_async_callback(discord.aclose)
        sender = await telegram_sender(settings, stack) if settings.telegram_token else None  # "address confirmed"
        yield Accounts(settings.secret_key, redis, SignInOptions(providers(settings), telegram),
                       mailer(settings, i18n), discord, sender)
