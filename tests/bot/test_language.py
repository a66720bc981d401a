"""/language: the languages come from the catalogs; switching answers in the new language; admin checks and
bad input change nothing."""

from __future__ import annotations

import pytest

from bot.language import LanguagePick
from bot.screens import OpenSection
from models.account import Account
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message


async def language_of_chat(chat_id: int) -> str:
    return (await Account.get(telegram_chats__chat_id=chat_id)).language


async def test_no_argument_shows_the_languages_from_the_catalogs(telegram):
    reply = await telegram.reply_to(private_message("/language"))
    assert "I speak English in this chat." in reply.text and "/language ru" in reply.text
    assert [(b["text"], b["callback_data"]) for b in reply.buttons()] == [
        ("✓ English", LanguagePick(code="en").pack()), ("Русский", LanguagePick(code="ru").pack())]


async def test_switching_changes_the_account_and_the_keyboard(telegram):
    await telegram.reply_to(private_message("/language ru"))
    assert await language_of_chat(USER_ID) == "ru"
    reply = await telegram.reply_to(private_message("/language"))
    assert [b["text"] for b in reply.buttons()] == ["English", "✓ Русский"]
    await telegram.reply_to(private_message("/language English"))
    assert await language_of_chat(USER_ID) == "en"


async def test_switching_answers_in_the_new_language_and_stays_in_it(telegram):
    """Needs the Russian catalog with this module's texts (/tmp/ru_settings_c.json merged)."""
    reply = await telegram.reply_to(private_message("/language ru"))
    assert reply.text == "Готово: теперь язык этого чата — Русский."
    reply = await telegram.reply_to(private_message("/timezone Europe/Moscow"))
    assert reply.text.startswith("Часовой пояс установлен: Europe/Moscow (сейчас там ")
    reply = await telegram.reply_to(private_message("/timezone Mars/Phobos"))
    assert reply.text.startswith("Неизвестный часовой пояс: Mars/Phobos.") and "Ничего не изменилось." in reply.text
    reply = await telegram.reply_to(private_message("/language en"))
    assert reply.text == "From now on I speak English in this chat."


@pytest.mark.parametrize("typed", ["de", "klingon", "<i>x</i>"])
async def test_unknown_language_lists_the_spoken_ones_and_changes_nothing(telegram, typed):
    reply = await telegram.reply_to(private_message(f"/language {typed}"))
    assert "Unknown language" in reply.text and "Nothing changed." in reply.text
    assert "en (English), ru (Русский)" in reply.text
    assert "<i>" not in reply.text
    assert [b["text"] for b in reply.buttons()] == ["✓ English", "Русский"]
    assert await language_of_chat(USER_ID) == "en"


async def test_a_button_switches_and_edits_the_message_in_the_new_language(telegram):
    await telegram.reply_to(private_message("/language"))
    edit = await telegram.reply_to(callback(LanguagePick(code="ru").pack()), method="editMessageText")
    assert "Русский" in edit.text and int(edit.params["message_id"]) == 391
    assert [b["text"] for b in edit.buttons()] == ["English", "✓ Русский"]
    await telegram.fake.wait_for("answerCallbackQuery")
    assert await language_of_chat(USER_ID) == "ru"


async def test_a_forged_button_changes_nothing(telegram):
    answer = await telegram.reply_to(callback(LanguagePick(code="de").pack()), method="answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == []
    assert await language_of_chat(USER_ID) == "en"


async def test_settings_button_opens_the_language_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="language").pack()), "editMessageText")
    assert "I speak English in this chat." in reply.text and len(reply.buttons()) == 3  # and Back
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_in_a_group_only_administrators_switch(telegram):
    shown = await telegram.reply_to(group_message("/language@simrsjsonbot"))
    assert shown.chat_id == GROUP_ID and len(shown.buttons()) == 2
    refusal = await telegram.reply_to(group_message("/language@simrsjsonbot ru"))
    assert "only the chat's administrators" in refusal.text
    pressed = callback(LanguagePick(code="ru").pack(), chat_id=GROUP_ID, chat_type="group")
    answer = await telegram.reply_to(pressed, method="answerCallbackQuery")
    assert "only the chat's administrators" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == []
    assert await language_of_chat(GROUP_ID) == "en"

    await telegram.reply_to(group_message("/language@simrsjsonbot ru", user_id=ADMIN_ID))
    assert await language_of_chat(GROUP_ID) == "ru"
    pressed = callback(LanguagePick(code="en").pack(), chat_id=GROUP_ID, chat_type="group", user_id=ADMIN_ID)
    edit = await telegram.reply_to(pressed, method="editMessageText")
    assert edit.text == "From now on I speak English in this chat."
    assert await language_of_chat(GROUP_ID) == "en"
