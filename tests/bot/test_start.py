"""/start, /stop, /help, the webhook's secret and the command menu."""

from __future__ import annotations

from html import escape

from models.account import Account, TelegramChat
from models.catalog import listed_sites
from models.contest import Site
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, group_message, private_message
from tests.catalog import fill_catalog


async def test_start_creates_the_account_with_defaults_and_greets(telegram):
    reply = await telegram.reply_to(private_message("/start"))
    assert reply.chat_id == USER_ID
    assert "I remind you of programming contests" in reply.text
    assert "Codeforces, AtCoder, LeetCode, CodeChef" in reply.text
    assert "1 d, 1 h before the start" in reply.text and "Time zone: UTC" in reply.text
    chat = await TelegramChat.get(chat_id=USER_ID).select_related("account")
    assert chat.chat_type == "private" and chat.active
    assert chat.account.language == "en" and chat.account.timezone == "UTC"
    assert chat.account.reminder_offsets == [86400, 3600] and not chat.account.paused


async def test_many_followed_sites_are_summed_up_and_names_escaped(telegram):
    added = await fill_catalog(60)
    await Site.filter(slug=added[0]).update(name="<b>Judge</b> & Co")
    await telegram.reply_to(private_message("/start"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=[*added[:20], "gone-from-the-catalog"])
    names = [site.name for site in await listed_sites() if site.slug in added[:20]]
    for command in ("/start", "/settings"):
        reply = await telegram.reply_to(private_message(command))
        [line] = [line for line in reply.text.split("\n") if line.startswith("Sites: ")]
        assert line == f"Sites: {escape(', '.join(names[:8]))} and 13 more (see /sites)"
        assert "Sites: &lt;b&gt;Judge&lt;/b&gt; &amp; Co, " in line  # first A–Z, as HTML text


async def test_start_keeps_the_deep_link_payload(telegram):
    await telegram.reply_to(private_message("/start Alohalooo"))
    assert (await TelegramChat.get(chat_id=USER_ID)).start_payload == "Alohalooo"


async def test_russian_user_is_greeted_in_russian(telegram):
    reply = await telegram.reply_to(private_message("/start", language_code="ru"))
    assert "Привет! Я напоминаю о соревнованиях по программированию" in reply.text
    assert (await Account.get(telegram_chats__chat_id=USER_ID)).language == "ru"


async def test_stop_pauses_and_start_resumes(telegram):
    await telegram.reply_to(private_message("/start"))
    reply = await telegram.reply_to(private_message("/stop"))
    assert "paused" in reply.text
    assert (await Account.get(telegram_chats__chat_id=USER_ID)).paused
    reply = await telegram.reply_to(private_message("/start"))
    assert "reminders are on again" in reply.text
    assert not (await Account.get(telegram_chats__chat_id=USER_ID)).paused


async def test_group_start_addressed_to_the_bot_and_admin_only_stop(telegram):
    reply = await telegram.reply_to(group_message("/start@simrsjsonbot"))
    assert reply.chat_id == GROUP_ID and "I remind you" in reply.text
    group = await Account.get(telegram_chats__chat_id=GROUP_ID)
    assert group.kind == "group"
    refusal = await telegram.reply_to(group_message("/stop@simrsjsonbot"))
    assert "only the chat's administrators" in refusal.text
    assert not (await Account.get(id=group.id)).paused
    done = await telegram.reply_to(group_message("/stop@simrsjsonbot", user_id=ADMIN_ID))
    assert "paused" in done.text
    assert (await Account.get(id=group.id)).paused


async def test_command_for_another_bot_is_ignored(telegram):
    assert await telegram.send(group_message("/start@someotherbot")) == 200
    await telegram.reply_to(group_message("/help@simrsjsonbot"))
    assert all("Hello!" not in call.text for call in telegram.fake.sent())


async def test_help_lists_the_commands_with_examples(telegram):
    reply = await telegram.reply_to(private_message("/help"))
    for command in ("/upcoming", "/sites", "/remind 1d 1h 10m", "/filter exclude kotlin", "/timezone", "/language",
                    "/settings", "/stop", "/calendar", "@simrsjsonbot codeforces"):
        assert command in reply.text


async def test_wrong_or_missing_secret_gets_401_and_changes_nothing(telegram):
    assert await telegram.send(private_message("/start"), secret="wrong") == 401
    response = await telegram.client.post("/telegram/webhook", json=private_message("/start"))
    assert response.status == 401
    assert not await TelegramChat.filter(chat_id=USER_ID).exists()
    assert telegram.fake.sent() == []
