"""/settings: one message with every setting of the chat (email, Discord, digest and calendar too) and a button into
each setting's screen, drawn over the same message with a "« Back" button that draws /settings again."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from bot.remind import RemindToggle
from bot.screens import BACK, OpenSection
from bot.settings import durations_summary, keywords_summary, status_line
from models.account import Account, DiscordWebhook, EmailAddress
from notify.i18n import make_i18n
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
from tests.fake_telegram import Call

SECTIONS = ["sites", "remind", "filter", "timezone", "language", "email", "discord", "digest", "calendar"]
LABELS = ["Sites", "Reminders", "Filters", "Time zone", "Language", "Email", "Discord", "Digest", "Calendar"]
#: the first line each section's screen starts with (the calendar's: no base URL in these tests)
SCREEN_STARTS = {
    "sites": "You follow: ", "remind": "Reminders: 1 d, 1 h before the start", "filter": "", "timezone": "",
    "language": "I speak English in this chat.", "email": "No email address yet.", "discord": "No Discord channel yet.",
    "digest": "No digest.", "calendar": "Calendar feeds are not available on this server.",
}


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


def on_message(call: Call, data: str, message_id: int, **where: Any) -> dict[str, Any]:
    """A press of `data` on the message the bot drew in `call`, carrying that message's keyboard and text as
    Telegram sends them."""
    update = callback(data, message_id=message_id, **where)
    update["callback_query"]["message"]["reply_markup"] = call.markup()
    update["callback_query"]["message"]["text"] = call.text
    return update


async def press(telegram, call: Call, data: str, message_id: int, **where: Any) -> Call:
    """Press a button of the screen drawn by `call`: the edit it causes (and no new message)."""
    sent = len(telegram.fake.sent())
    edit = await telegram.reply_to(on_message(call, data, message_id, **where), "editMessageText")
    assert int(edit.params["message_id"]) == message_id
    assert len(telegram.fake.sent()) == sent, "a new message instead of an edit"
    return edit


def data_of(call: Call, text: str) -> str:
    return next(b["callback_data"] for b in call.buttons() if b["text"] == text)


async def test_settings_summarise_the_defaults_with_a_button_per_section(telegram):
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("<b>Settings of this chat</b>", "Sites: Codeforces, AtCoder, LeetCode, CodeChef",
                 "Reminders: 1 d, 1 h before the start", "Time zone: UTC", "Language: English", "Keywords: none",
                 "Duration: any", "Reminders are on: /stop pauses them.", "Email: not set", "Discord: off",
                 "Digest: off", "Calendar feed: not made yet"):
        assert line in reply.text
    assert [b["callback_data"] for b in reply.buttons()] == [OpenSection(section=s).pack() for s in SECTIONS]
    assert [b["text"] for b in reply.buttons()] == LABELS
    assert all(len(row) <= 2 for row in reply.markup()["inline_keyboard"])


async def test_settings_show_filters_zone_and_pause(telegram):
    await telegram.reply_to(private_message("/start"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(
        sites=["atcoder"], include_keywords=["div. 2", "<script>"], exclude_keywords=["kotlin"],
        min_duration=1800, max_duration=5 * 3600, reminder_offsets=[600], timezone="Europe/Minsk", paused=True)
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("Sites: AtCoder", "Reminders: 10 min before the start", "Time zone: Minsk (UTC+3)",
                 "Only contests whose title has one of: div. 2, &lt;script&gt;",
                 "Skip contests whose title has: kotlin", "Duration: from 30 min to 5 h",
                 "Reminders are paused: send /start to resume them."):
        assert line in reply.text
    assert "<script>" not in reply.text


async def test_settings_show_email_discord_digest_and_calendar_when_set(telegram):
    await telegram.reply_to(private_message("/start"))
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    await Account.filter(id=account.id).update(digest="daily", digest_minute=8 * 60, calendar_token="t" * 32)
    row = await EmailAddress.create(account=account, address="alice<b>@example.org", token="e" * 40,
                                    verified_at=datetime.now(UTC))
    await DiscordWebhook.create(account=account, webhook_id=123456789, token="secret-discord-token")
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("Email: alice&lt;b&gt;@example.org (confirmed)", "Discord: on", "Digest: daily at 08:00",
                 "Calendar feed: on"):
        assert line in reply.text
    assert "secret-discord-token" not in reply.text and "t" * 32 not in reply.text

    await EmailAddress.filter(id=row.id).update(verified_at=None)
    await Account.filter(id=account.id).update(digest="weekly", digest_weekday=0, digest_minute=18 * 60 + 30)
    reply = await telegram.reply_to(private_message("/settings"))
    assert "Email: alice&lt;b&gt;@example.org (waiting for confirmation)" in reply.text
    assert "Digest: weekly, Monday at 18:30" in reply.text


@pytest.mark.parametrize("section", SECTIONS)
async def test_each_button_draws_its_screen_in_place_and_back_draws_settings_again(telegram, section):
    settings = await telegram.reply_to(private_message("/settings"))
    message_id = settings.result["message_id"]
    screen = await press(telegram, settings, OpenSection(section=section).pack(), message_id)
    assert screen.text.startswith(SCREEN_STARTS[section]) and "<b>Settings of this chat</b>" not in screen.text
    assert screen.markup()["inline_keyboard"][-1] == [{"text": "« Back", "callback_data": BACK}]

    back = await press(telegram, screen, BACK, message_id)
    assert back.text == settings.text and back.markup() == settings.markup()
    assert len(await telegram.fake.wait_for("answerCallbackQuery", count=2)) == 2


async def test_a_screen_opened_from_settings_keeps_back_when_its_buttons_redraw_it(telegram):
    settings = await telegram.reply_to(private_message("/settings"))
    message_id = settings.result["message_id"]
    screen = await press(telegram, settings, OpenSection(section="remind").pack(), message_id)
    toggled = await press(telegram, screen, RemindToggle(offset=600).pack(), message_id)
    assert "✓ 10 min" in [b["text"] for b in toggled.buttons()]
    assert toggled.buttons()[-1] == {"text": "« Back", "callback_data": BACK}
    back = await press(telegram, toggled, BACK, message_id)
    assert "Reminders: 1 d, 1 h, 10 min before the start" in back.text


async def test_a_screen_opened_by_its_command_is_a_new_message_without_back(telegram):
    reply = await telegram.reply_to(private_message("/remind"))
    assert BACK not in [b["callback_data"] for b in reply.buttons()]
    toggled = await press(telegram, reply, RemindToggle(offset=600).pack(), reply.result["message_id"])
    assert BACK not in [b["callback_data"] for b in toggled.buttons()]


async def test_everyone_in_a_group_may_look(telegram):
    await telegram.reply_to(group_message("/timezone@simrsjsonbot Asia/Tokyo", user_id=ADMIN_ID))
    reply = await telegram.reply_to(group_message("/settings@simrsjsonbot"))  # not an administrator
    assert reply.chat_id == GROUP_ID and "Time zone: Tokyo (UTC+9)" in reply.text
    assert len(reply.buttons()) == len(SECTIONS)
    checked = len(telegram.fake.sent("getChatMember"))
    screen = await press(telegram, reply, OpenSection(section="timezone").pack(), reply.result["message_id"],
                         chat_id=GROUP_ID, chat_type="group")
    assert screen.chat_id == GROUP_ID and len(telegram.fake.sent("getChatMember")) == checked  # looking is open


async def test_settings_in_russian(telegram):
    await telegram.reply_to(private_message("/language ru"))
    reply = await telegram.reply_to(private_message("/settings"))
    for line in ("<b>Настройки этого чата</b>", "Сайты: Codeforces", "Язык: Русский", "Длительность: любая",
                 "Напоминания включены", "Почта: не указана", "Discord: выключен", "Сводка: выключена",
                 "Ссылка на календарь: ещё не создана"):
        assert line in reply.text
    assert [b["text"] for b in reply.buttons()][:5] == ["Сайты", "Напоминания", "Фильтры", "Часовой пояс", "Язык"]
    assert not any(b["text"] in LABELS for b in reply.buttons() if b["text"] != "Discord"), "an untranslated button"
    screen = await press(telegram, reply, OpenSection(section="digest").pack(), reply.result["message_id"],
                         language_code="ru")
    assert screen.buttons()[-1]["text"] == "← Назад"
