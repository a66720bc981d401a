"""A channel's administrators run the bot by posting commands in the channel."""

from __future__ import annotations

from models.account import Account, TelegramChat
from tests.bot.updates import channel_post

CHANNEL_ID = -1001500000000


async def test_channel_post_start_creates_the_channel_account(telegram):
    reply = await telegram.reply_to(channel_post("/start"))
    assert reply.chat_id == CHANNEL_ID and "I remind you of programming contests" in reply.text
    chat = await TelegramChat.get(chat_id=CHANNEL_ID).select_related("account")
    assert chat.chat_type == "channel" and chat.account.kind == "channel"


async def test_channel_post_changes_the_channel_settings(telegram):
    reply = await telegram.reply_to(channel_post("/timezone Europe/Berlin"))
    assert "Time zone set to Berlin (UTC+" in reply.text
    assert (await Account.get(telegram_chats__chat_id=CHANNEL_ID)).timezone == "Europe/Berlin"
    assert not telegram.fake.sent("getChatMember")  # only administrators can post in a channel
