"""Discord as the third channel, end to end: the reminder clock sends through Telegram and Discord (the fake Bot
API and a fake Discord over HTTP), a 429 is waited out, a deleted webhook is dropped and its owner told in
Telegram; and /discord in the bot checks the URL, sends a test message, stores it, and removes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bot.app import make_bot
from contestbell.reminders import owner_teller
from models.account import Account, Delivery, DiscordWebhook, TelegramChat
from models.contest import Contest
from notify.discord import DiscordChannel
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.reminder_clock import ReminderClock
from tests.bot.updates import USER_ID, private_message
from tests.fake_discord import FakeDiscord
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import wait_until

WEBHOOK_ID = 112233445566778899
WEBHOOK_TOKEN = "T" * 30 + "-_abc" * 6 + "x" * 10
WEBHOOK_URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"


@dataclass
class Servers:
    telegram: FakeTelegram
    telegram_base: str
    discord: FakeDiscord
    discord_base: str


@pytest.fixture
async def servers(db) -> AsyncIterator[Servers]:
    telegram, discord = FakeTelegram(), FakeDiscord()
    discord.add_webhook(WEBHOOK_ID, WEBHOOK_TOKEN)
    discord_server = TestServer(discord.app, host="127.0.0.1")
    await discord_server.start_server(access_log=None)  # its access log would hold the token
    try:
        async with TestServer(telegram.app, host="127.0.0.1") as telegram_server:
            yield Servers(telegram, str(telegram_server.make_url("")).rstrip("/"), discord,
                          str(discord_server.make_url("")).rstrip("/"))
    finally:
        discord.release()
        await discord_server.close()


@pytest.fixture
async def clock(servers: Servers) -> AsyncIterator[ReminderClock]:
    i18n = make_i18n()
    bot = make_bot(TOKEN, servers.telegram_base)
    sender = TelegramSender(bot, make_limiter(None))
    discord = DiscordChannel(i18n, servers.discord_base, on_gone=owner_teller(i18n, sender), backoff=0.01)
    scheduler = new_scheduler()
    scheduler.start()
    running = ReminderClock(scheduler, ReminderRun([TelegramChannel(i18n, sender), discord]))
    try:
        yield running
    finally:
        scheduler.shutdown(wait=False)
        await discord.aclose()
        await bot.session.close()


async def someone_with_discord(chat_id: int = 401, language: str = "en") -> Account:
    account = await Account.create(sites=["codeforces"], reminder_offsets=[600], timezone="Asia/Tokyo",
                                   language=language)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    await DiscordWebhook.create(account=account, webhook_id=WEBHOOK_ID, token=WEBHOOK_TOKEN)
    return account


async def due_soon(key: str, title: str = "Codeforces Round 7000 (Div. 2)") -> Contest:
    start = datetime.now(UTC) + timedelta(seconds=602)
    return await Contest.create(site_id="codeforces", key=key, title=title,
                                url=f"https://codeforces.com/contest/{key}", start=start,
                                end=start + timedelta(hours=2), duration=7200)


async def test_a_reminder_goes_to_telegram_and_to_discord_as_an_embed(servers, clock):
    account = await someone_with_discord()
    await due_soon("7000", "@everyone Round **7000**")
    await clock.start()
    [call] = await servers.discord.wait_for(1, timeout=10)
    await servers.telegram.wait_for(chat_id=401, timeout=10)
    [embed] = call.embeds
    assert embed["url"] == "https://codeforces.com/contest/7000"
    assert "@everyone" not in embed["title"] and "**" not in embed["title"].replace("\\*", "")
    assert call.body["allowed_mentions"] == {"parse": []}
    assert "(UTC+9)" in embed["description"]  # the start in Tokyo time, with its offset

    async def settled() -> bool:
        return await Delivery.filter(account_id=account.id, status="sent").count() == 2

    await wait_until(settled, 5, "both deliveries to be marked sent")
    assert set(await Delivery.filter(account_id=account.id).values_list("channel", flat=True)) == {
        "telegram", "discord"}


async def test_a_429_from_discord_is_waited_out_and_nothing_is_lost(servers, clock):
    await someone_with_discord()
    await due_soon("7001")
    servers.discord.fail_next(429, retry_after=0.4)
    await clock.start()
    [call] = await servers.discord.wait_for(1, timeout=10)
    assert servers.discord.refused == 1 and call.embeds


async def test_a_deleted_webhook_is_dropped_and_its_owner_told_in_telegram(servers, clock):
    account = await someone_with_discord(402)
    await due_soon("7002")
    servers.discord.fail_next(404, {"message": "Unknown Webhook", "code": 10015})
    await clock.start()
    told = await servers.telegram.wait_for(chat_id=402, count=2, timeout=10)
    assert any("Discord no longer accepts" in call.text for call in told)
    assert not await DiscordWebhook.filter(account_id=account.id).exists()

    async def settled() -> bool:
        return await Delivery.filter(channel="discord", status="failed").exists()

    await wait_until(settled, 5, "the Discord delivery to be marked failed")


# the bot


@pytest.fixture
async def bot_with_discord(telegram, servers: Servers):
    channel = DiscordChannel(make_i18n(), servers.discord_base, backoff=0.01)
    telegram.dispatcher["discord"] = channel
    yield telegram
    await channel.aclose()


async def test_discord_command_checks_tests_stores_and_removes(bot_with_discord, servers):
    bot = bot_with_discord
    reply = await bot.reply_to(private_message("/discord https://evil.example.org/api/webhooks/1/abc"))
    assert "not a Discord webhook address" in reply.text
    elsewhere = WEBHOOK_URL.replace("discord.com", "discord.com.evil.org")
    reply = await bot.reply_to(private_message(f"/discord {elsewhere}"))
    assert "not a Discord webhook address" in reply.text
    assert servers.discord.sent() == [] and servers.discord.strays == []  # no request for a refused URL

    reply = await bot.reply_to(private_message(f"/discord {WEBHOOK_URL}"))
    assert "Connected" in reply.text
    [test_message] = servers.discord.sent()
    assert "contestbell" in test_message.content
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    row = await DiscordWebhook.get(account_id=account.id)
    assert (row.webhook_id, row.token) == (WEBHOOK_ID, WEBHOOK_TOKEN)

    reply = await bot.reply_to(private_message("/discord"))
    assert str(WEBHOOK_ID) in reply.text and WEBHOOK_TOKEN not in reply.text

    reply = await bot.reply_to(private_message("/discord off"))
    assert "removed" in reply.text
    assert not await DiscordWebhook.filter(account_id=account.id).exists()


async def test_discord_command_stores_nothing_when_discord_does_not_know_the_webhook(bot_with_discord, servers):
    unknown = WEBHOOK_URL.replace(str(WEBHOOK_ID), "998877665544332211")
    reply = await bot_with_discord.reply_to(private_message(f"/discord {unknown}"))
    assert "does not know this webhook" in reply.text
    assert await DiscordWebhook.all().count() == 0
