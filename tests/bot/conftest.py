"""The bot under test: the real dispatcher behind the real webhook route, talking to the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiohttp.test_utils import TestClient, TestServer

from bot.app import make_bot, make_dispatcher
from contestbell.telegram import WEBHOOK_PATH, attach_webhook
from notify.i18n import make_i18n
from tests.bot.updates import GROUP_ID, USER_ID
from tests.fake_telegram import TOKEN, Call, FakeTelegram
from web.app import make_web_app

SECRET = "test-webhook-secret"
ADMIN_ID = 777000111


@dataclass
class BotUnderTest:
    fake: FakeTelegram
    client: TestClient
    bot: Bot
    dispatcher: Dispatcher

    async def send(self, update: dict[str, Any], secret: str = SECRET) -> int:
        response = await self.client.post(WEBHOOK_PATH, json=update,
                                          headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        return response.status

    async def reply_to(self, update: dict[str, Any], method: str = "sendMessage", timeout: float = 5) -> Call:
        """Send an update and wait for the next call of `method` it causes."""
        before = len(self.fake.sent(method))
        assert await self.send(update) == 200
        return (await self.fake.wait_for(method, count=before + 1, timeout=timeout))[before]


@pytest.fixture
async def telegram(db) -> AsyncIterator[BotUnderTest]:
    fake = FakeTelegram(admins={GROUP_ID: {ADMIN_ID}, -1001234567890: {ADMIN_ID}})
    async with TestServer(fake.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))
        dispatcher = make_dispatcher(make_i18n())
        app = make_web_app()
        attach_webhook(app, dispatcher, bot, SECRET)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield BotUnderTest(fake, client, bot, dispatcher)


__all__ = ["ADMIN_ID", "GROUP_ID", "USER_ID"]
