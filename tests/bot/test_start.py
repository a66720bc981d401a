"""/start, /stop, /help, the webhook's secret and the command menu."""

from __future__ import annotations

from html import escape

import pytest

from bot.screens import OpenSection
from models.account import Account, TelegramChat
from models.catalog import listed_sites
from models.contest import Site
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
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


async def test_start_offers_the_three_first_steps_as_buttons(telegram):
    reply = await telegram.reply_to(private_message("/start"))
    assert [(b["text"], b["callback_data"]) for b in reply.buttons()] == [
        ("🕒 Time zone", OpenSection(section="timezone").pack()),
        ("🌐 Sites", OpenSection(section="sites").pack()),
        ("⏰ Reminders", OpenSection(section="remind").pack()),
    ]
    assert all(len(row) == 1 for row in reply.markup()["inline_keyboard"])  # one a row: they fit a phone
    assert "First steps" in reply.text and "/settings" in reply.text and "/help" in reply.text


@pytest.mark.parametrize("section", ["timezone", "sites", "remind"])
async def test_each_first_step_button_opens_its_screen_over_the_greeting(telegram, section):
    greeting = await telegram.reply_to(private_message("/start"))
    screen = await telegram.reply_to(private_message(f"/{section}"))  # the screen as its command draws it
    pressed = callback(OpenSection(section=section).pack(), message_id=greeting.result["message_id"])
    edit = await telegram.reply_to(pressed, "editMessageText")
    assert int(edit.params["message_id"]) == greeting.result["message_id"]
    assert edit.text == screen.text
    assert [b["text"] for b in edit.buttons()][:len(screen.buttons())] == [b["text"] for b in screen.buttons()]
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_russian_first_steps_and_the_zone_by_city_and_offset(telegram):
    await telegram.reply_to(private_message("/start", language_code="ru"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(timezone="Asia/Kolkata")
    reply = await telegram.reply_to(private_message("/start", language_code="ru"))
    assert [b["text"] for b in reply.buttons()] == ["🕒 Часовой пояс", "🌐 Сайты", "⏰ Напоминания"]
    assert "Часовой пояс: Калькутта (UTC+5:30)" in reply.text


async def test_the_summary_names_the_zone_once_by_city_and_offset(telegram):
    await telegram.reply_to(private_message("/start"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(timezone="Europe/Moscow")
    for command in ("/start", "/settings"):
        reply = await telegram.reply_to(private_message(command))
        assert "Time zone: Moscow (UTC+3)" in reply.text
        assert "Europe/Moscow" not in reply.text and reply.text.count("UTC+3") == 1


async def test_many_followed_sites_are_summed_up_and_names_escaped(telegram):
    added = await fill_catalog(60)
    await Site.filter(slug=added[0]).update(name="<b>Judge</b> & Co")
    await telegram.reply_to(private_message("/start"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=[*added[:20], "gone-from-the-catalog"])
    names = [site.name for site in await listed_sites() if site.slug in added[:20]]
    for command in ("/start", "/settings"):
        reply = await telegram.reply_to(private_message(command))
        [line] = [line for line in reply.text.split("\n") if line.startswith("Sites: ")]
        assert line == f"Sites: {escape(', '.join(names[:8]))} and 13 more sites (see /sites)"
        assert "Sites: &lt;b&gt;Judge&lt;/b&gt; &amp; Co, " in line  # first A–Z, as HTML text


async def test_start_keeps_the_deep_link_payload(telegram):
    await telegram.reply_to(private_message("/start Alohalooo"))
    assert (await TelegramChat.get(chat_id=USER_ID)).start_payload == "Alohalooo"


async def test_russian_user_is_greeted_in_russian(telegram):
    reply = await telegram.reply_to(private_message("/start", language_code="ru"))
    assert "Привет! Я напоминаю о контестах по программированию" in reply.text
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
    for command in ("/upcoming", "/sites", "/remind 1d 1h 10m", "/filter include", "/timezone", "/language",
                    "/settings", "/stop", "/calendar", "@simrsjsonbot codeforces"):
        assert command in reply.text


async def test_wrong_or_missing_secret_gets_401_and_changes_nothing(telegram):
    assert await telegram.send(private_message("/start"), secret="wrong") == 401
    response = await telegram.client.post("/telegram/webhook", json=private_message("/start"))
    assert response.status == 401
    assert not await TelegramChat.filter(chat_id=USER_ID).exists()
    assert telegram.fake.sent() == []
