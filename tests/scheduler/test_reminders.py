"""Reminders end to end: the clock wakes at the due moment, claims, renders and sends through the Telegram
sender to the fake Bot API over HTTP; moves, cancellations and renames; two schedulers; downtime."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bot.app import make_bot
from models.account import Account, Delivery, TelegramChat
from models.contest import ChangeKind, Contest, ContestChange
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.reminder_clock import ReminderClock
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import wait_until


def now() -> datetime:
    return datetime.now(UTC)


async def person(chat_id: int, offsets: list[int], **settings) -> Account:
    account = await Account.create(sites=["codeforces"], reminder_offsets=offsets, **settings)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    return account


async def contest(key: str, start: datetime, title: str | None = None) -> Contest:
    return await Contest.create(site_id="codeforces", key=key, title=title or f"Codeforces Round {key} (Div. 2)",
                                url=f"https://codeforces.com/contest/{key}", start=start,
                                end=start + timedelta(hours=2), duration=7200)


class Clocks:
    """Running reminder clocks (one per 'scheduler process') against one fake Bot API."""

    def __init__(self, fake: FakeTelegram, base: str) -> None:
        self.fake, self.base, self.running = fake, base, []

    async def start(self) -> ReminderClock:
        bot = make_bot(TOKEN, self.base)
        scheduler = new_scheduler()
        scheduler.start()
        channel = TelegramChannel(make_i18n(), TelegramSender(bot, make_limiter(None)))
        clock = ReminderClock(scheduler, ReminderRun([channel]))
        await clock.start()
        self.running.append((clock, bot, scheduler))
        return clock

    async def stop(self) -> None:
        for _clock, bot, scheduler in self.running:
            scheduler.shutdown(wait=False)
            await bot.session.close()
        self.running.clear()


@pytest.fixture
async def clocks(db) -> AsyncIterator[Clocks]:
    fake = FakeTelegram()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        running = Clocks(fake, str(api.make_url("")).rstrip("/"))
        try:
            yield running
        finally:
            await running.stop()


async def test_reminder_arrives_within_two_seconds_of_its_due_moment(clocks):
    await person(101, [600])
    round_ = await contest("3000", now() + timedelta(seconds=603))
    due = round_.start - timedelta(seconds=600)
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=101, timeout=10)
    lateness = time.monotonic() - message.at  # seconds since it arrived
    arrived = now() - timedelta(seconds=lateness)
    assert timedelta(0) <= arrived - due < timedelta(seconds=2), arrived - due
    assert "Codeforces Round 3000 (Div. 2)" in message.text and "in 10 min" in message.text
    buttons = message.buttons()  # a 10-minute snooze would land at the start: "remind me at the start" instead
    assert buttons[0]["callback_data"] == f"atstart:{round_.id}" and buttons[1]["url"] == round_.url

    async def settled() -> bool:
        return await Delivery.filter(status="sent", account__telegram_chats__chat_id=101).count() == 1

    await wait_until(settled, 5, "the reminder to be marked sent")


async def test_reminders_due_together_go_out_as_one_message(clocks):
    await person(102, [600])
    start = now() + timedelta(seconds=602)
    await contest("3001", start, "Codeforces Round 3001 (Div. 1)")
    await contest("3002", start, "Codeforces Round 3002 (Div. 2)")
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=102, timeout=10)
    await asyncio.sleep(1)
    assert len(clocks.fake.sent(chat_id=102)) == 1
    assert "2 contests start soon" in message.text
    assert message.text.count("Times in UTC") == 1 and "(UTC" not in message.text  # the zone once, in the header
    assert "Round 3001 (Div. 1)" in message.text and "Round 3002 (Div. 2)" in message.text
    assert await Delivery.filter(status="sent").count() == 2


async def test_downtime_sends_late_reminders_and_skips_started_contests(clocks):
    await person(103, [86400, 3600])
    soon = await contest("3003", now() + timedelta(hours=20))  # its 1-day reminder fell due 4 h ago
    started = await contest("3004", now() - timedelta(minutes=5))  # its 1-hour reminder fell due, it started
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=103, timeout=10)
    assert "Late" in message.text and "Round 3003" in message.text
    await asyncio.sleep(0.5)
    assert len(clocks.fake.sent(chat_id=103)) == 1, [c.text for c in clocks.fake.sent(chat_id=103)]
    assert await Delivery.filter(contest_id=soon.id, status="sent").count() == 1
    assert await Delivery.filter(contest_id=started.id, status="skipped").count() == 2  # 1 day and 1 hour


async def test_two_schedulers_at_once_send_each_reminder_once(clocks):
    for chat_id in range(200, 230):
        await person(chat_id, [600])
    await contest("3005", now() + timedelta(seconds=602))
    await asyncio.gather(clocks.start(), clocks.start())
    await clocks.fake.wait_for(count=30, timeout=15)
    await asyncio.sleep(1.5)
    assert sorted(call.chat_id for call in clocks.fake.sent()) == list(range(200, 230))
    assert await Delivery.filter(status="sent").count() == 30


async def test_a_restart_does_not_send_again(clocks):
    await person(104, [600])
    await contest("3006", now() + timedelta(seconds=601))
    await clocks.start()
    await clocks.fake.wait_for(chat_id=104, timeout=10)
    await clocks.stop()
    await clocks.start()  # a restart looks back over the last week
    await asyncio.sleep(1.5)
    assert len(clocks.fake.sent(chat_id=104)) == 1


async def record_change(contest_row: Contest, kind: ChangeKind, **values) -> None:
    """What ingest does when a site moves or drops a contest (ingest itself is tested elsewhere)."""
    old_start = contest_row.start
    for field, value in values.items():
        setattr(contest_row, field, value)
    await contest_row.save()
    await ContestChange.create(contest=contest_row, kind=kind, old_start=old_start,
                               new_start=values.get("start"), noticed_at=now())


async def test_moved_contest_tells_those_reminded_and_reminds_again_at_the_new_time(clocks):
    await person(105, [600])
    round_ = await contest("3007", now() + timedelta(seconds=601))
    clock = await clocks.start()
    await clocks.fake.wait_for(chat_id=105, timeout=10)
    await record_change(round_, ChangeKind.RESCHEDULED, start=now() + timedelta(seconds=603),
                        end=now() + timedelta(seconds=603 + 7200))
    await clock.replan()
    messages = await clocks.fake.wait_for(chat_id=105, count=3, timeout=10)
    notice, again = messages[1:]
    assert "moved" in notice.text and "→" in notice.text
    assert "Round 3007" in again.text and "in 10 min" in again.text


async def test_cancelled_contest_tells_those_reminded_and_renamed_one_is_reminded_by_its_new_name(clocks):
    await person(106, [600, 300])
    cancelled = await contest("3008", now() + timedelta(seconds=601))
    renamed = await contest("3009", now() + timedelta(seconds=1200))
    clock = await clocks.start()
    await clocks.fake.wait_for(chat_id=106, timeout=10)
    await record_change(cancelled, ChangeKind.CANCELLED, cancelled=True)
    await record_change(renamed, ChangeKind.RENAMED, title="Codeforces Round 3009 (Div. 1 + Div. 2)",
                        start=now() + timedelta(seconds=602), end=now() + timedelta(seconds=602 + 7200))
    await clock.replan()
    messages = await clocks.fake.wait_for(chat_id=106, count=3, timeout=10)
    texts = [m.text for m in messages[1:]]
    assert any("was cancelled" in text and "Round 3008" in text for text in texts)
    assert any("Codeforces Round 3009 (Div. 1 + Div. 2)" in text for text in texts)
    assert not any("Round 3008" in text and "in 5 min" in text for text in texts)  # no reminder for it


async def test_snoozed_reminder_comes_back_once(clocks):
    account = await person(107, [])
    round_ = await contest("3010", now() + timedelta(hours=1))
    await Delivery.create(account=account, contest=round_, channel="telegram", kind="snooze", offset_seconds=3598,
                          contest_start=round_.start, due_at=now() + timedelta(seconds=2), status="planned")
    await clocks.start()
    [message] = await clocks.fake.wait_for(chat_id=107, timeout=10)
    assert "Round 3010" in message.text
    await asyncio.sleep(1)
    assert len(clocks.fake.sent(chat_id=107)) == 1
    assert await Delivery.filter(kind="snooze", status="sent").count() == 1
