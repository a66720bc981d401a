"""/settings: one message with every setting of the chat and a button into each setting's screen."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.screens import OpenSection
from bot.settings import durations_summary, keywords_summary, status_line
from models.account import Account
from notify.i18n import make_i18n
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message

SECTIONS = ["sites", "remind", "filter", "timezone", "language"]


def account_like(**settings) -> SimpleNamespace:
    defaults = dict(include_keywords=[], exclude_keywords=[], min_duration=None, max_duration=None, paused=False)
    return SimpleNamespace(**{**defaults, **settings})


@pytest.fixture
def english():
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("en"):
        yield


@pytest.mark.parametrize(("low", "high", "line"), [
    (None, None, "Duration: any"),
    (1800, None, "Duration: at least 30 min"),
    (None, 5 * 3600, "Duration: at most 5 h"),
    (3600, 2 * 86400 + 3 * 3600, "Duration: from 1 h to 2 d 3 h"),
])
def test_duration_limits(english, low, high, line):
    assert durations_summary(account_like(min_duration=low, max_duration=high)) == line


def test_keywords_are_escaped(english):
    assert keywords_summary(account_like()) == ["Keywords: none"]
    assert keywords_summary(account_like(include_keywords=["div. 2", "<b>"], exclude_keywords=["kotlin"])) == [
        "Only contests whose title has one of: div. 2, &lt;b&gt;", "Skip contests whose title has: kotlin"]


def test_paused_or_not(english):
    assert "paused" in status_line(account_like(paused=True))
    assert "Reminders are on" in status_line(account_like())


async def test_settings_summarise_the_defaults_with_a_button_per_section(telegram):
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("<b>Settings of this chat</b>", "Sites: Codeforces, AtCoder, LeetCode, CodeChef",
                 "Reminders: 1 d, 1 h before the start", "Time zone: UTC", "Language: English", "Keywords: none",
                 "Duration: any", "Reminders are on: /stop pauses them."):
        assert line in reply.text
    assert [b["callback_data"] for b in reply.buttons()] == [OpenSection(section=s).pack() for s in SECTIONS]
    assert [b["text"] for b in reply.buttons()] == ["Sites", "Reminders", "Filters", "Time zone", "Language"]


async def test_settings_show_filters_zone_and_pause(telegram):
    await telegram.reply_to(private_message("/start"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(
        sites=["atcoder"], include_keywords=["div. 2", "<script>"], exclude_keywords=["kotlin"],
        min_duration=1800, max_duration=5 * 3600, reminder_offsets=[600], timezone="Europe/Minsk", paused=True)
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("Sites: AtCoder", "Reminders: 10 min before the start", "Time zone: Europe/Minsk",
                 "Only contests whose title has one of: div. 2, &lt;script&gt;",
                 "Skip contests whose title has: kotlin", "Duration: from 30 min to 5 h",
                 "Reminders are paused: send /start to resume them."):
        assert line in reply.text
    assert "<script>" not in reply.text


async def test_the_settings_buttons_open_the_time_zone_and_language_screens(telegram):
    pressed = {b["text"]: b["callback_data"] for b in (await telegram.reply_to(private_message("/settings"))).buttons()}
    zone = await telegram.reply_to(callback(pressed["Time zone"]))
    assert "Your time zone is UTC" in zone.text
    language = await telegram.reply_to(callback(pressed["Language"]))
    assert "I speak English in this chat." in language.text
    assert len(await telegram.fake.wait_for("answerCallbackQuery", count=2)) == 2


async def test_open_settings_section_shows_the_summary_again(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="settings").pack()))
    assert "<b>Settings of this chat</b>" in reply.text and len(reply.buttons()) == len(SECTIONS)
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_everyone_in_a_group_may_look(telegram):
    await telegram.reply_to(group_message("/timezone@simrsjsonbot Asia/Tokyo", user_id=ADMIN_ID))
    reply = await telegram.reply_to(group_message("/settings@simrsjsonbot"))  # not an administrator
    assert reply.chat_id == GROUP_ID and "Time zone: Asia/Tokyo" in reply.text
    assert len(reply.buttons()) == len(SECTIONS)


async def test_settings_in_russian(telegram):
    """Needs the Russian catalog with this module's texts (/tmp/ru_settings_c.json merged)."""
    await telegram.reply_to(private_message("/language ru"))
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("<b>Настройки этого чата</b>", "Сайты: Codeforces", "Часовой пояс: UTC", "Язык: Русский",
                 "Ключевые слова: не заданы", "Длительность: любая", "Напоминания включены"):
        assert line in reply.text
    assert [b["text"] for b in reply.buttons()] == ["Сайты", "Напоминания", "Фильтры", "Часовой пояс", "Язык"]
