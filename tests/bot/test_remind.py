"""/remind: the command, the preset buttons, group admin checks (the offsets rule: tests/notify/test_preferences.py)."""

from __future__ import annotations

import pytest

from bot.remind import RemindToggle, toggled
from bot.screens import OpenSection
from models.account import Account
from notify.rules import TooManyReminders
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message

DAY, HOUR, MINUTE = 86400, 3600, 60


def test_toggled_switches_one_offset_and_refuses_a_sixth():
    assert toggled([DAY, HOUR], 600) == [DAY, HOUR, 600]
    assert toggled([DAY, HOUR], DAY) == [HOUR]
    with pytest.raises(TooManyReminders):
        toggled([2 * DAY, DAY, HOUR, 1800, 600], 3 * HOUR)


async def offsets_of(chat_id: int) -> list[int]:
    return (await Account.get(telegram_chats__chat_id=chat_id)).reminder_offsets


async def test_remind_shows_the_offsets_with_preset_toggles(telegram):
    reply = await telegram.reply_to(private_message("/remind"))
    assert "Reminders: 1 d, 1 h before the start" in reply.text
    assert [b["text"] for b in reply.buttons()] == ["✓ 1 d", "3 h", "✓ 1 h", "30 min", "10 min"]
    assert reply.buttons()[3]["callback_data"] == RemindToggle(offset=1800).pack()


async def test_the_presets_fit_a_phone_in_two_short_rows(telegram):
    reply = await telegram.reply_to(private_message("/remind"))
    rows = reply.markup()["inline_keyboard"]
    assert len(rows) <= 2 and all(len(row) <= 3 for row in rows)
    assert all(len(button["text"]) <= 8 for row in rows for button in row), rows  # "✓ 30 min" at most


async def test_remind_sets_the_offsets(telegram):
    reply = await telegram.reply_to(private_message("/remind 10m 1d 1h30m 1d"))
    assert "Reminders: 1 d, 1 h 30 min, 10 min before the start" in reply.text
    assert [b["text"] for b in reply.buttons()] == ["✓ 1 d", "3 h", "1 h", "30 min", "✓ 10 min"]
    assert await offsets_of(USER_ID) == [DAY, 5400, 600]


async def test_remind_off_turns_reminders_off(telegram):
    reply = await telegram.reply_to(private_message("/remind off"))
    assert "Reminders: off" in reply.text
    assert await offsets_of(USER_ID) == []


@pytest.mark.parametrize(("command", "said"), [
    ("/remind 1d 5x", "“5x”"),
    ("/remind 1h 8d", "“8d”"),
    ("/remind 0m", "“0m”"),
    ("/remind 30s", "“30s”"),
    ("/remind 1m 2m 3m 4m 5m 6m", "at most 5 reminders"),
])
async def test_bad_values_say_what_is_wrong_and_change_nothing(telegram, command, said):
    await telegram.reply_to(private_message("/remind 3h"))
    reply = await telegram.reply_to(private_message(command))
    assert said in reply.text and "Nothing changed." in reply.text
    assert await offsets_of(USER_ID) == [3 * HOUR]


async def press(telegram, data: str, **where) -> list[str]:
    """Press a button; the texts of the keyboard it is edited to."""
    before = len(telegram.fake.sent("editMessageText"))
    assert await telegram.send(callback(data, **where)) == 200
    edit = (await telegram.fake.wait_for("editMessageText", count=before + 1))[before]
    assert edit.params["message_id"] == "391"
    return [b["text"] for b in edit.buttons()]


async def test_buttons_toggle_in_place(telegram):
    await telegram.reply_to(private_message("/remind"))
    assert await press(telegram, RemindToggle(offset=600).pack()) == ["✓ 1 d", "3 h", "✓ 1 h", "30 min", "✓ 10 min"]
    assert await offsets_of(USER_ID) == [DAY, HOUR, 600]
    assert await press(telegram, RemindToggle(offset=DAY).pack()) == ["1 d", "3 h", "✓ 1 h", "30 min", "✓ 10 min"]
    assert await offsets_of(USER_ID) == [HOUR, 600]
    edit = telegram.fake.sent("editMessageText")[-1]
    assert "Reminders: 1 h, 10 min before the start" in edit.text
    assert len(telegram.fake.sent("answerCallbackQuery")) == 2


async def test_button_refuses_a_sixth_offset(telegram):
    await telegram.reply_to(private_message("/remind 2d 1d 1h 30m 10m"))
    assert await telegram.send(callback(RemindToggle(offset=3 * HOUR).pack())) == 200
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert "at most 5" in answer.text and answer.params["show_alert"] == "true"
    assert telegram.fake.sent("editMessageText") == []
    assert await offsets_of(USER_ID) == [2 * DAY, DAY, HOUR, 1800, 600]


async def test_group_members_see_but_only_admins_change(telegram):
    shown = await telegram.reply_to(group_message("/remind@simrsjsonbot"))
    assert "Reminders: 1 d, 1 h before the start" in shown.text
    refusal = await telegram.reply_to(group_message("/remind@simrsjsonbot 10m"))
    assert "only the chat's administrators" in refusal.text
    assert await offsets_of(GROUP_ID) == [DAY, HOUR]

    assert await telegram.send(callback(RemindToggle(offset=600).pack(), chat_id=GROUP_ID, chat_type="group")) == 200
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert "only the chat's administrators" in answer.text
    assert telegram.fake.sent("editMessageText") == []
    assert await offsets_of(GROUP_ID) == [DAY, HOUR]

    done = await telegram.reply_to(group_message("/remind@simrsjsonbot 10m", user_id=ADMIN_ID))
    assert "Reminders: 10 min before the start" in done.text
    assert await offsets_of(GROUP_ID) == [600]
    keyboard = await press(telegram, RemindToggle(offset=HOUR).pack(), chat_id=GROUP_ID, user_id=ADMIN_ID,
                           chat_type="group")
    assert keyboard == ["1 d", "3 h", "✓ 1 h", "30 min", "✓ 10 min"]
    assert await offsets_of(GROUP_ID) == [HOUR, 600]


async def test_settings_button_opens_the_reminders_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="remind").pack()), "editMessageText")
    assert "Reminders: 1 d, 1 h before the start" in reply.text
    assert len(reply.buttons()) == 6  # and Back
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_russian(telegram):
    reply = await telegram.reply_to(private_message("/remind", language_code="ru"))
    assert "Напоминания: за 1д, 1ч до начала" in reply.text


async def test_russian_bad_value_needs_the_merged_catalog(telegram):
    reply = await telegram.reply_to(private_message("/remind 5x", language_code="ru"))
    assert "«5x»" in reply.text or "“5x”" in reply.text
    assert "Ничего не изменилось." in reply.text
