"""A `contestbell scheduler` killed with SIGKILL in the middle of a fan-out of thousands, then restarted:
nobody gets a reminder twice, at most what was on the wire (the Telegram channel's concurrency) is reported,
and the rest goes out after the restart. Stopped with SIGTERM instead, it reports nothing."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from models.account import Account, Delivery, TelegramChat
from models.contest import Contest
from notify.telegram import CONCURRENCY
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import contestbell_env, running, wait_until

PEOPLE = 3000
#: the Telegram channel's senders: each holds at most one claimed message
IN_FLIGHT = CONCURRENCY


async def subscribers(count: int) -> None:
    await Account.bulk_create([Account(sites=["codeforces"], reminder_offsets=[600]) for _ in range(count)],
                              batch_size=1000)
    ids = await Account.all().values_list("id", flat=True)
    await TelegramChat.bulk_create([TelegramChat(chat_id=50_000 + i, account_id=i, chat_type="private")
                                    for i in ids], batch_size=1000)


async def one_contest_for(people: int) -> None:
    """`people` subscribers of one contest whose 10-minute reminders fall due in about 8 s."""
    await subscribers(people)
    start = datetime.now(UTC) + timedelta(seconds=600 + 8)
    await Contest.create(site_id="codeforces", key="5000", title="Codeforces Round 5000", url="https://x",
                         start=start, end=start + timedelta(hours=2), duration=7200)


def slow_telegram() -> FakeTelegram:
    """The fake Bot API taking 3 ms a message, so the fan-out lasts long enough to be cut off."""
    fake = FakeTelegram()
    fake.send_delay = 0.003
    return fake


def scheduler_env(db: str, redis_url: str, api: TestServer) -> dict[str, str]:
    return contestbell_env(database_url=db, redis_url=redis_url, sites="none", telegram_token=TOKEN,
                           telegram_api_base=str(api.make_url("")).rstrip("/"), telegram_rate="0")


@pytest.mark.split
@pytest.mark.parametrize("kill_after", [40, 1200])
async def test_sigkill_mid_fan_out_then_restart_sends_nothing_twice(db, redis_url, tmp_path, kill_after):
    await one_contest_for(PEOPLE)
    fake = slow_telegram()
    log = tmp_path / "scheduler.log"
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = scheduler_env(db, redis_url, api)
        with running("scheduler", env=env, log=log) as first:
            await fake.wait_for(count=kill_after, timeout=40)
            first.send_signal(signal.SIGKILL)
            first.wait()
        killed_at = len(fake.sent())
        assert killed_at < PEOPLE, "the fan-out finished before the kill: make it slower"

        async def settled() -> bool:
            return await Delivery.filter(status="claimed").count() == 0 and \
                await Delivery.all().count() == PEOPLE

        with running("scheduler", env=env, log=log):
            await wait_until(settled, 60, "the restarted scheduler to finish the fan-out")
            await asyncio.sleep(1)

    per_chat = Counter(call.chat_id for call in fake.sent())
    assert max(per_chat.values()) == 1, [chat for chat, n in per_chat.items() if n > 1][:5]
    statuses = Counter(await Delivery.all().values_list("status", flat=True))
    assert set(statuses) <= {"sent", "interrupted"} and sum(statuses.values()) == PEOPLE
    print(f"killed after {killed_at} messages: {statuses['interrupted']} reported interrupted (at most "
          f"{IN_FLIGHT}), {statuses['sent']} sent")
    assert statuses["interrupted"] <= IN_FLIGHT  # at most what was on the wire when it was killed
    sent_chats = set(await TelegramChat.filter(account__deliveries__status="sent").values_list("chat_id", flat=True))
    assert sent_chats <= set(per_chat)  # what we say was sent, was sent
    assert len(per_chat) - len(sent_chats) <= statuses["interrupted"]  # the rest went out just before the kill
    if statuses["interrupted"]:
        assert "claimed by a run that stopped before sending them" in log.read_text()


@pytest.mark.split
async def test_sigterm_mid_fan_out_finishes_what_it_claimed_and_reports_none(db, redis_url, tmp_path):
    await one_contest_for(PEOPLE)
    fake = slow_telegram()
    log = tmp_path / "scheduler.log"
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = scheduler_env(db, redis_url, api)
        with running("scheduler", env=env, log=log) as first:
            await fake.wait_for(count=200, timeout=40)
            first.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(first.wait, 30) == 0
        stopped_at = len(fake.sent())
        assert stopped_at < PEOPLE, "the fan-out finished before the stop: make it slower"
        assert await Delivery.filter(status="claimed").count() == 0  # everything claimed was settled
        assert await Delivery.filter(status="sent").count() == stopped_at

        async def settled() -> bool:
            return await Delivery.filter(status="sent").count() == PEOPLE

        with running("scheduler", env=env, log=log):
            await wait_until(settled, 60, "the restarted scheduler to finish the fan-out")

    assert len(fake.sent()) == PEOPLE and len({call.chat_id for call in fake.sent()}) == PEOPLE
    assert await Delivery.exclude(status="sent").count() == 0
    assert "claimed by a run that stopped" not in log.read_text()
