"""The bot's place in chats: blocked or removed -> deactivated, added back -> active; a group migrated to
a supergroup keeps its settings under the new id."""

from __future__ import annotations

import asyncio

from models.account import Account, TelegramChat
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, group_message, migration, my_chat_member, private_message
from tests.processes import wait_until


async def chat_active(chat_id: int) -> bool:
    return (await TelegramChat.get(chat_id=chat_id)).active


async def test_user_who_blocks_the_bot_is_deactivated_and_comes_back_with_start(telegram):
    await telegram.reply_to(private_message("/start"))
    assert await telegram.send(my_chat_member("kicked")) == 200

    async def inactive() -> bool:
        return not await chat_active(USER_ID)

    await wait_until(inactive, 5, "the chat to be deactivated")
    assert await telegram.send(my_chat_member("member")) == 200
    await wait_until(lambda: chat_active(USER_ID), 5, "the chat to be active again")


async def test_group_that_removes_the_bot_is_deactivated(telegram):
    await telegram.reply_to(group_message("/start@simrsjsonbot"))
    assert await telegram.send(my_chat_member("left", chat_id=GROUP_ID, chat_type="group")) == 200

    async def inactive() -> bool:
        return not await chat_active(GROUP_ID)

    await wait_until(inactive, 5, "the group to be deactivated")


async def test_group_migrated_to_a_supergroup_keeps_its_settings(telegram):
    await telegram.reply_to(group_message("/start@simrsjsonbot"))
    await telegram.reply_to(group_message("/stop@simrsjsonbot", user_id=ADMIN_ID))
    group_account = (await TelegramChat.get(chat_id=GROUP_ID)).account_id
    supergroup_id = -1001234567890
    for update in migration(GROUP_ID, supergroup_id):
        assert await telegram.send(update) == 200
        await asyncio.sleep(0.2)  # Telegram sends the two service messages one after the other

    async def moved() -> bool:
        chat = await TelegramChat.get_or_none(chat_id=supergroup_id)
        return chat is not None and chat.account_id == group_account

    await wait_until(moved, 5, "the settings to follow the supergroup")
    assert not await TelegramChat.filter(chat_id=GROUP_ID).exists()
    assert (await Account.get(id=group_account)).paused
    assert await Account.filter(telegram_chats__chat_id=supergroup_id).count() == 1
    assert await TelegramChat.filter(chat_id=supergroup_id, chat_type="supergroup").exists()
