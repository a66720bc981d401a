"""The web app with accounts switched on, for tests: a real OpenID Connect provider (tests/oidc_provider.py), a
fake GitHub, the fake Bot API behind the bot's webhook on the same app (so `/start TOKEN` and `/link` meet the
web's accounts), all over HTTP on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.app import make_bot, make_dispatcher
from contestbell.telegram import attach_webhook
from notify.i18n import make_i18n
from tests.bot.conftest import SECRET
from tests.fake_github import FakeGitHub
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.oidc_provider import OIDCProvider
from tests.processes import free_port
from web.app import Accounts, make_web_app
from web.signin import Provider, SignInOptions, TelegramLogin

BOT_NAME = "simrsjsonbot"
SESSION_SECRET = "k9Qz-3vLr_Xw8TnB2eYh5uJc7mPa4sDf6gHq1WxZ"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class AccountsSite:
    base: str
    provider: OIDCProvider
    github: FakeGitHub
    telegram: FakeTelegram

    def browser(self) -> aiohttp.ClientSession:
        """A person's browser: its own cookie jar (cookies for 127.0.0.1 too)."""
        return aiohttp.ClientSession(base_url=self.base, cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def post_update(self, update: dict[str, Any]) -> int:
        async with aiohttp.ClientSession() as session, session.post(
                f"{self.base}/telegram/webhook", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            return response.status

    async def bot_reply(self, update: dict[str, Any], chat_id: int) -> str:
        before = len(self.telegram.sent(chat_id=chat_id))
        assert await self.post_update(update) == 200
        return (await self.telegram.wait_for(count=before + 1, chat_id=chat_id))[before].text


async def sign_in_with_oidc(site: AccountsSite, browser: aiohttp.ClientSession, login: str) -> aiohttp.ClientResponse:
    site.provider.auto_approve(login)
    return await browser.get("/login/oidc")


async def csrf_of(browser: aiohttp.ClientSession, path: str = "/account") -> str:
    async with browser.get(path) as response:
        found = _CSRF.search(await response.text())
    assert found, f"no CSRF token on {path}"
    return found.group(1)


@asynccontextmanager
async def accounts_site(*, secure: bool = False, mailer: Any = None, redis: Any = None,
                        discord: Any = None) -> AsyncIterator[AccountsSite]:
    provider, github, telegram = OIDCProvider(), FakeGitHub(), FakeTelegram(username=BOT_NAME)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider.allow_redirect_uri(f"{base}/auth/oidc/callback")
    github.allow_redirect_uri(f"{base}/auth/github/callback")
    async with provider.running() as issuer, github.running() as github_base, \
            TestServer(telegram.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))

        async def bot_name() -> str | None:
            return (await bot.me()).username

        options = SignInOptions(
            providers=(Provider("oidc", "Example ID", "oidc", "contestbell", "provider-secret", issuer=issuer),
                       Provider("github", "GitHub", "github", "Iv1.contestbell", "github-secret",
                                github_url=github_base, github_api=github_base)),
            telegram=TelegramLogin(TOKEN, bot_name))
        public = ("https://bell.example.org" if secure else base)
        app = make_web_app(public_url=public, accounts=Accounts(SESSION_SECRET, redis, options, mailer, discord))
        dispatcher = make_dispatcher(make_i18n())
        dispatcher["base_url"] = base
        attach_webhook(app, dispatcher, bot, SECRET)
        server = TestServer(app, host="127.0.0.1", port=port)
        await server.start_server()
        try:
            yield AccountsSite(base, provider, github, telegram)
        finally:
            await server.close()
            if redis is not None:
                await redis.aclose()
