"""Button presses are input: every callback data is checked as strictly as the typed command. A forged or
stale one gets "this button is out of date" and changes nothing (issue 9, item 1)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from models.account import Account, Delivery
from models.contest import Contest
from tests.bot.updates import USER_ID, callback, private_message

FORGED = [
    "remind:99999999999999999999",  # froze the plan for everyone (OverflowError on every replan)
    "remind:-5",  # stored as a "0 min" reminder
    "remind:1",  # one second: stored as "0 min"
    "remind:59",
    "remind:604801",  # a second over 7 days
    "remind:",
    "remind:1e3",
    "remind:600:600",
    "upcoming:99999999999999999999:0:0",
    "upcoming:1700000000:-1:0",
    "upcoming:1700000000:99999:0",
    "upcoming:1700000000:0:99999999999",
    "upcoming:-99999999999:0:0",
    "upcoming:1700000000:0:5",  # the old format: a bit mask over the sorted sites
    "more:99999999999999999999:0:",
    "more:1700000000:-1:",
    "more:1700000000:99999:",
    "more:1700000000:0:nosuchsite",
    "more:1700000000:0:codeforces,nosuchsite",
    "more:1700000000:0:~AAAA",
    "more:1700000000:0:CODEFORCES",
    "more:1700000000:0",
    "up:99999999999999999999:0:",
    "up:1700000000:-1:",
    "up:1700000000:50:",
    "up:-1:0:",
    "up:1700000000:0:nosuchsite",
    "up:1700000000:0:codeforces,nosuchsite",
    "up:1700000000:0:~AAAA",
    "up:1700000000:0:CODEFORCES",
    "up:1700000000:0",
    "up:1700000000:1e1:",
    "calendar-yes:AAAAAAAA",
    "calendar-yes:",
    "calendar-yes:AAAAAAA",
    "calendar-yes:../../..",
    "calendar-yes:AAAAAAAA:1",
    "calendar-keep:1",
    "open:help",
    "snooze:1:100000",
    "snooze:1:0",
    "snooze:-1:10",
    "snooze:99999999999999999999:10",
    "atstart:0",
    "atstart:-1",
    "atstart:99999999999999999999",
    "atstart:1:10",
    "site:nosuchsite",
    "site:",
    "site:nosuchsite:0",
    "site:codeforces:100",
    "site:codeforces:0:0",
    "sites:100",
    "sites:",
    "sites-done:x",
    "open:nosuchsection",
    "open:",
    "filter:everything:",
    "filter:include:",
    "filter:min:abcdef0123",
    "filter:include:not-a-key",
    "tz:Mars/Olympus",
    "tz:UTC+99:00",
    "tz:",
    "lang:xx",
    "lang:",
    "calendar-reset:1",
    "nosuchprefix:1",
    ":",
    "x" * 64,
]


async def settings_of(chat_id: int) -> dict:
    account = await Account.get(telegram_chats__chat_id=chat_id)
    return {name: getattr(account, name) for name in (
        "timezone", "language", "sites", "include_keywords", "exclude_keywords", "min_duration", "max_duration",
        "reminder_offsets", "paused", "calendar_token")}


async def test_a_forged_button_is_out_of_date_and_changes_nothing(telegram, caplog):
    """Each forged press from a user of its own (one database for all: flood control counts per user)."""
    for number, data in enumerate(FORGED):
        user = 5_000_000 + number
        await telegram.reply_to(private_message("/start", user_id=user))
        before = await settings_of(user)
        with caplog.at_level(logging.WARNING):
            answer = await telegram.reply_to(callback(data, chat_id=user, user_id=user), "answerCallbackQuery")
        assert "out of date" in answer.params["text"], data
        assert await settings_of(user) == before, data
    assert not await Delivery.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_forged_button_is_answered_in_the_chats_language(telegram):
    await telegram.reply_to(private_message("/start", language_code="ru"))
    answer = await telegram.reply_to(callback("remind:99999999999999999999", language_code="ru"),
                                     "answerCallbackQuery")
    assert "устарела" in answer.params["text"]


async def test_a_button_on_a_message_telegram_no_longer_shows_is_out_of_date(telegram):
    """A press on an inline message (no `message`, only `inline_message_id`): our buttons live on messages."""
    await telegram.reply_to(private_message("/start"))
    update = callback("remind:3600")
    query = update["callback_query"]
    del query["message"]
    query["inline_message_id"] = "AAAAAAAAAAAAAAAA"
    answer = await telegram.reply_to(update, "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert (await settings_of(USER_ID))["reminder_offsets"] == [86400, 3600]


async def test_snooze_of_a_valid_contest_in_range_still_works(telegram):
    await telegram.reply_to(private_message("/start"))
    start = datetime.now(UTC) + timedelta(hours=2)
    contest = await Contest.create(site_id="codeforces", key="4100", title="Round", url="https://codeforces.com",
                                   start=start, end=start + timedelta(hours=2), duration=7200)
    answer = await telegram.reply_to(callback(f"snooze:{contest.id}:30"), "answerCallbackQuery")
    assert "30 min" in answer.params["text"]
    assert await Delivery.filter(kind="snooze", contest_id=contest.id).count() == 1
