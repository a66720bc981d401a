"""How updates reach the bot and what it tells Telegram: long polling, webhook registration with its secret,
the command menu in every language, flood control, and the apology for unexpected errors (one Sentry event)."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer

from bot.app import make_bot, make_dispatcher
from contestbell.telegram import WEBHOOK_PATH, attach_webhook, polling
from models.account import Account
from notify.i18n import make_i18n
from tests.bot.conftest import SECRET
from tests.bot.updates import GROUP_ID, USER_ID, group_message, private_message
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.sentry import local_sentry
from web.app import make_web_app


async def test_long_polling_receives_updates_and_answers(db):
    fake = FakeTelegram()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))
        async with polling(make_dispatcher(make_i18n()), bot):
            fake.queue_update(private_message("/start"))
            [reply] = await fake.wait_for("sendMessage", chat_id=USER_ID)
    assert "I remind you of programming contests" in reply.text
    assert fake.sent("deleteWebhook")  # a webhook left behind would make Telegram refuse getUpdates
    assert await Account.filter(telegram_chats__chat_id=USER_ID).exists()


async def test_webhook_mode_registers_the_webhook_with_its_secret_and_the_commands_in_each_language(db):
    fake = FakeTelegram()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))
        app = make_web_app()
        attach_webhook(app, make_dispatcher(make_i18n()), bot, SECRET, public_url="https://bell.example.org/")
        async with TestClient(TestServer(app, host="127.0.0.1")):
            [webhook] = await fake.wait_for("setWebhook")
            commands = await fake.wait_for("setMyCommands", count=2)
    assert webhook.params["url"] == "https://bell.example.org" + WEBHOOK_PATH
    assert webhook.params["secret_token"] == SECRET
    by_language = {call.params.get("language_code"): call.params["commands"] for call in commands}
    assert set(by_language) == {None, "ru"}
    english = {c["command"]: c["description"] for c in by_language[None]}
    russian = {c["command"]: c["description"] for c in by_language["ru"]}
    assert set(english) == set(russian) >= {"start", "help", "upcoming", "sites", "remind", "filter", "timezone",
                                            "language", "settings", "stop", "calendar"}
    assert english["stop"] == "Pause all reminders" and russian["stop"] == "Приостановить напоминания"


async def test_flooding_user_is_told_once_to_slow_down(telegram):
    for _ in range(12):
        assert await telegram.send(private_message("/help")) == 200
    await asyncio.sleep(1)
    texts = [call.text for call in telegram.fake.sent(chat_id=USER_ID)]
    assert texts.count("Easy there: that was a lot of commands at once. Try again in a few seconds.") == 1
    assert sum("What I can do" in text for text in texts) == 8


async def test_unexpected_error_gets_an_apology_and_one_sentry_event(telegram):
    async with local_sentry() as envelopes:
        telegram.fake.fail_next("getChatMember", 500, "Internal Server Error")
        reply = await telegram.reply_to(group_message("/stop@simrsjsonbot"))
        events = (await envelopes.flushed()).exception_events()
    assert "Sorry, something went wrong on our side" in reply.text and reply.chat_id == GROUP_ID
    assert len(events) == 1, envelopes
    assert "TelegramServerError" in json.dumps(events[0])
    assert not (await Account.get(telegram_chats__chat_id=GROUP_ID)).paused
