"""Snoozed reminders through the real clock and the fake Bot API: one asked for the start goes out at the start, and
one that would arrive within two minutes of another reminder of the contest for the same chat is dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.account import Account, Delivery
from models.contest import Contest
from tests.processes import wait_until
from tests.scheduler.test_reminders import clocks, contest, now, person

__all__ = ["clocks"]


async def snoozed(account: Account, round_: Contest, due: datetime) -> Delivery:
    """What a press on the reminder's second button plans (bot/snooze.py)."""
    return await Delivery.create(account=account, contest=round_, channel="telegram", kind="snooze",
                                 offset_seconds=int((round_.start - due).total_seconds()), contest_start=round_.start,
                                 due_at=due, status="planned")


async def status_of(row: Delivery) -> str:
    await row.refresh_from_db()
    return row.status


async def until(row: Delivery, status: str) -> None:
    async def reached() -> bool:
        return await status_of(row) == status

    await wait_until(reached, 10, f"the snoozed reminder to be {status}")


async def test_a_reminder_asked_for_the_start_comes_at_the_start(clocks):
    account = await person(301, [])
    round_ = await contest("4001", now() + timedelta(seconds=2))
    row = await snoozed(account, round_, round_.start)
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=301, timeout=10)
    assert "Starting now" in message.text and "Round 4001" in message.text
    assert [button.get("url") for button in message.buttons()] == [round_.url]  # started: no snooze, no "at the start"
    await until(row, "sent")


async def test_a_snooze_just_before_a_planned_reminder_is_dropped(clocks):
    account = await person(302, [600])
    round_ = await contest("4002", now() + timedelta(seconds=600 + 90))  # the 10-minute reminder in 90 s
    row = await snoozed(account, round_, now() + timedelta(seconds=2))  # 88 s before it
    await clocks.start()
    await until(row, "skipped")
    assert clocks.fake.sent(chat_id=302) == []
    assert "within 2 minutes" in row.error


async def test_a_snooze_just_after_a_sent_reminder_is_dropped(clocks):
    account = await person(303, [600])
    round_ = await contest("4003", now() + timedelta(seconds=601))  # the 10-minute reminder in 1 s
    row = await snoozed(account, round_, now() + timedelta(seconds=3))
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=303, timeout=10)
    assert "Round 4003" in message.text
    await until(row, "skipped")
    assert len(clocks.fake.sent(chat_id=303)) == 1


async def test_two_snoozes_close_together_come_once(clocks):
    account = await person(304, [])
    round_ = await contest("4004", now() + timedelta(hours=1))
    first = await snoozed(account, round_, now() + timedelta(seconds=2))
    second = await snoozed(account, round_, now() + timedelta(seconds=3))
    await clocks.start()
    await clocks.fake.wait_for(chat_id=304, timeout=10)
    await until(second, "skipped")
    await until(first, "sent")
    assert len(clocks.fake.sent(chat_id=304)) == 1


async def test_a_snooze_far_from_other_reminders_comes(clocks):
    account = await person(305, [600])
    round_ = await contest("4005", now() + timedelta(seconds=600 + 150))  # the 10-minute reminder in 150 s
    row = await snoozed(account, round_, now() + timedelta(seconds=2))
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=305, timeout=10)
    assert "Round 4005" in message.text
    await until(row, "sent")
