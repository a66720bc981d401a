"""The reminder's "again in 10 min" button plans the reminder once more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.account import Account, Delivery
from models.contest import Contest
from notify.telegram import RemindAtStart, Snooze
from tests.bot.updates import USER_ID, callback, private_message


async def make_contest(start: datetime) -> Contest:
    return await Contest.create(site_id="codeforces", key="4000", title="Codeforces Round 4000", url="https://x",
                                start=start, end=start + timedelta(hours=2), duration=7200)


async def test_snooze_plans_the_reminder_again_in_ten_minutes(telegram):
    await telegram.reply_to(private_message("/start"))
    contest = await make_contest(datetime.now(UTC) + timedelta(hours=1))
    answer = await telegram.reply_to(callback(Snooze(contest_id=contest.id).pack()), "answerCallbackQuery")
    assert "again in 10 min" in answer.params["text"]
    snoozed = await Delivery.get(kind="snooze", contest_id=contest.id)
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    assert snoozed.account_id == account.id and snoozed.status == "planned"
    assert timedelta(minutes=9) < snoozed.due_at - datetime.now(UTC) <= timedelta(minutes=10)


async def test_snooze_past_the_start_is_refused_kindly(telegram):
    await telegram.reply_to(private_message("/start"))
    contest = await make_contest(datetime.now(UTC) + timedelta(minutes=5))
    answer = await telegram.reply_to(callback(Snooze(contest_id=contest.id).pack()), "answerCallbackQuery")
    assert "started by then" in answer.params["text"]
    assert not await Delivery.filter(kind="snooze").exists()


@pytest.mark.parametrize(("language", "said"), [("en", "It will have started by then"), ("ru", "уже начнётся")])
async def test_an_old_snooze_button_that_would_land_at_the_start_plans_nothing(telegram, language, said):
    """The 10-minute reminder no longer offers the snooze, but an older message may still carry one."""
    await telegram.reply_to(private_message("/start", language_code=language))
    contest = await make_contest(datetime.now(UTC) + timedelta(minutes=10))
    answer = await telegram.reply_to(callback(Snooze(contest_id=contest.id, minutes=10).pack(),
                                              language_code=language), "answerCallbackQuery")
    assert said in answer.params["text"]
    assert not await Delivery.filter(kind="snooze").exists()


async def test_remind_at_the_start_plans_a_reminder_at_the_start_once(telegram):
    await telegram.reply_to(private_message("/start"))
    contest = await make_contest(datetime.now(UTC) + timedelta(minutes=7))
    for _ in range(2):
        answer = await telegram.reply_to(callback(RemindAtStart(contest_id=contest.id).pack()), "answerCallbackQuery")
        assert "I will remind you when it starts." in answer.params["text"]
    planned = await Delivery.get(kind="snooze", contest_id=contest.id)  # one row, however often it is pressed
    assert (planned.due_at, planned.offset_seconds, planned.status) == (contest.start, 0, "planned")


async def test_remind_at_the_start_after_the_start_plans_nothing(telegram):
    await telegram.reply_to(private_message("/start"))
    contest = await make_contest(datetime.now(UTC) - timedelta(seconds=1))
    answer = await telegram.reply_to(callback(RemindAtStart(contest_id=contest.id).pack()), "answerCallbackQuery")
    assert "It has already started" in answer.params["text"]
    assert not await Delivery.filter(kind="snooze").exists()


async def test_a_second_snooze_press_moments_later_plans_nothing_more(telegram):
    await telegram.reply_to(private_message("/start"))
    contest = await make_contest(datetime.now(UTC) + timedelta(hours=1))
    for _ in range(2):
        answer = await telegram.reply_to(callback(Snooze(contest_id=contest.id).pack()), "answerCallbackQuery")
        assert "again in 10 min" in answer.params["text"]
    assert await Delivery.filter(kind="snooze", contest_id=contest.id).count() == 1
