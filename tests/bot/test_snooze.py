"""The reminder's "again in 10 min" button plans the reminder once more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.account import Account, Delivery
from models.contest import Contest
from notify.telegram import Snooze
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
