"""/language: the languages come from the catalogs; switching answers in the new language; admin checks and
bad input change nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from bot.commands import COMMANDS, bot_commands
from bot.language import LanguagePick
from bot.screens import OpenSection
from models.account import Account
from notify.i18n import make_i18n
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
from tests.fake_telegram import Call


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
    assert reply.text == "Готово! Язык этого чата: Русский."
    reply = await telegram.reply_to(private_message("/timezone Europe/Moscow"))
    assert reply.text.startswith("Готово! Часовой пояс: Москва (UTC+3), сейчас там ")
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
    menus = await chat_menus(telegram, count=2)
    assert len(menus) == 2  # the administrator's two switches: the refused member's changed no menu either
    assert [menu.params["scope"] for menu in menus] == [{"type": "chat", "chat_id": GROUP_ID}] * 2


# the chat's command menu follows its language


def menu_of(call: Call) -> list[tuple[str, str]]:
    return [(command["command"], command["description"]) for command in call.params["commands"]]


def bot_commands_in(language: str) -> list[tuple[str, str]]:
    return [(c.command, c.description) for c in bot_commands(make_i18n(), language)]


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def chat_menus(telegram, count: int) -> list[Call]:
    """The menus set for one chat (setMyCommands with a scope; the bot's start sets the default ones without)."""
    def scoped() -> list[Call]:
        return [call for call in telegram.fake.sent("setMyCommands") if "scope" in call.params]
    await eventually(lambda: len(scoped()) >= count, f"{count} chat menus")
    return scoped()


async def test_switching_to_russian_gives_the_chat_a_russian_menu(telegram):
    await telegram.reply_to(private_message("/language ru"))
    [menu] = await chat_menus(telegram, count=1)
    assert menu.params["scope"] == {"type": "chat", "chat_id": USER_ID}
    assert "language_code" not in menu.params  # the chat's own menu, whatever its members' Telegram language
    expected = [(c.command, c.description) for c in bot_commands(make_i18n(), "ru")]
    assert menu_of(menu) == expected and [name for name, _ in menu_of(menu)] == [name for name, _ in COMMANDS]
    assert dict(menu_of(menu))["language"] != dict(bot_commands_in("en"))["language"]  # translated
    assert all(any("а" <= letter <= "я" for letter in description.lower()) for _, description in menu_of(menu))



async def test_a_language_button_sets_the_chat_menu_too(telegram):
    await telegram.reply_to(private_message("/language"))
    await telegram.reply_to(callback(LanguagePick(code="ru").pack()), method="editMessageText")
    [menu] = await chat_menus(telegram, count=1)
    assert menu.params["scope"] == {"type": "chat", "chat_id": USER_ID} and menu_of(menu) == bot_commands_in("ru")
    await telegram.reply_to(callback(LanguagePick(code="en").pack()), method="editMessageText")
    menus = await chat_menus(telegram, count=2)
    assert menu_of(menus[1]) == bot_commands_in("en")


async def test_a_refused_menu_is_one_log_line_and_the_language_still_switches(telegram, caplog):
    telegram.fake.fail_next("setMyCommands", 400, "Bad Request: chat not found")
    with caplog.at_level(logging.INFO):
        reply = await telegram.reply_to(private_message("/language ru"))
        await eventually(lambda: any("setMyCommands" in r.getMessage() for r in caplog.records), "the log line")
    assert reply.text == "Готово! Язык этого чата: Русский."
    assert await language_of_chat(USER_ID) == "ru"
    about_menu = [record for record in caplog.records if "setMyCommands" in record.getMessage()]
    assert len(about_menu) == 1 and about_menu[0].levelno == logging.WARNING
    assert "chat not found" in about_menu[0].getMessage() and "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(telegram.fake.sent()) == 1  # the confirmation only: no "something went wrong"


async def test_forgetting_the_chat_drops_its_own_menu(telegram):
    await telegram.reply_to(private_message("/language ru"))
    await chat_menus(telegram, count=1)
    question = await telegram.reply_to(private_message("/forget"))
    await telegram.reply_to(callback(question.buttons()[0]["callback_data"], message_id=question.result["message_id"]),
                            method="editMessageText")
    [dropped] = telegram.fake.sent("deleteMyCommands")
    assert dropped.params["scope"] == {"type": "chat", "chat_id": USER_ID}
