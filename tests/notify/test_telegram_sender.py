"""The Telegram sender against the fake Bot API over HTTP: what it does with each answer (429, 403, chat not
found, migration, 5xx, timeouts) and the rate limits it keeps, in one process and shared through Redis.

Times are the fake server's (`Call.at`, when a request arrived). The error descriptions are Telegram's
wording; no capture of these answers exists in ../shared/fixtures, so they are written out here.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import make_bot
from models.account import Account, TelegramChat
from notify.channel import Reminders
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.messages import ContestInfo, Locale, Notice, Reminder
from notify.telegram import (
    Outcome,
    RemindAtStart,
    Snooze,
    TelegramSender,
    again_button,
    reminder_keyboard,
    telegram_message,
)
from tests.bot.updates import GROUP_ID, USER_ID
from tests.fake_telegram import TOKEN, Call, FakeTelegram
from tests.processes import REPO

SUPERGROUP_ID = -1001234567890


@dataclass
class Api:
    fake: FakeTelegram
    base: str


async def serve(fake: FakeTelegram) -> AsyncIterator[Api]:
    async with TestServer(fake.app, host="127.0.0.1") as server:
        yield Api(fake, str(server.make_url("")).rstrip("/"))


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async for running in serve(FakeTelegram()):
        yield running


MakeSender = Callable[..., TelegramSender]


@pytest.fixture
async def make(api: Api) -> AsyncIterator[MakeSender]:
    """Builds senders (each with its own Bot and limiter, like separate processes when given a Redis URL)."""
    made: list[TelegramSender] = []

    def make_sender(redis_url: str | None = None, *, base: str | None = None, attempts: int = 4,
                    request_timeout: float = 5.0, **limits: Any) -> TelegramSender:
        sender = TelegramSender(make_bot(TOKEN, base or api.base), make_limiter(redis_url, **limits),
                                attempts=attempts, backoff=0.05, request_timeout=request_timeout)
        made.append(sender)
        return sender

    yield make_sender
    for sender in made:
        await sender.bot.session.close()
        await sender.limiter.aclose()


@pytest.fixture(params=["local", "redis"])
def shared(request: pytest.FixtureRequest) -> str | None:
    """None for the in-process limiter, a (flushed) Redis URL for the shared one."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


def peer_of(sender: TelegramSender, make: MakeSender, shared: str | None, **limits: Any) -> TelegramSender:
    """Another sender under the same limits: a second process through Redis, the same sender in-process."""
    return make(shared, **limits) if shared else sender


async def chat_row(chat_id: int, chat_type: str = "private") -> TelegramChat:
    account = await Account.create(kind="person" if chat_id > 0 else "group")
    return await TelegramChat.create(chat_id=chat_id, account=account, chat_type=chat_type)


def busiest_second(calls: list[Call]) -> int:
    """The most requests that arrived within any one second."""
    times = sorted(call.at for call in calls)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


def report(label: str, calls: list[Call]) -> float:
    span = calls[-1].at - calls[0].at
    print(f"\n{label}: {len(calls)} messages in {span:.3f} s = {(len(calls) - 1) / span:.1f}/s, "
          f"busiest second {busiest_second(calls)}")
    return span


# what Telegram answers


async def test_429_pauses_every_send_for_retry_after_and_the_message_goes_once(api, make, shared):
    sender = make(shared)
    others = peer_of(sender, make, shared)
    api.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
    first = asyncio.create_task(sender.send(USER_ID, "first"))
    (refused,) = await api.fake.wait_for(count=1)
    await asyncio.sleep(0.1)  # the sender has the answer and has paused
    results = await asyncio.gather(first, others.send(USER_ID + 1, "second"), others.send(USER_ID + 2, "third"))

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    later = api.fake.sent()[1:]
    assert sorted(call.text for call in later) == ["first", "second", "third"]
    assert all(call.result is not None for call in later)  # each went out once, after the refused one
    waited = min(call.at for call in later) - refused.at
    assert 2.0 <= waited < 3.0
    print(f"\n[{'redis' if shared else 'local'}] first send after a 429 with retry_after=2: {waited:.3f} s later")


async def test_a_429_also_holds_back_messages_already_waiting_for_their_slot(api, make, shared):
    sender = make(shared, per_second=10)
    peer = peer_of(sender, make, shared, per_second=10)
    api.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    results = await asyncio.gather(*(s.send(USER_ID + n, f"#{n}") for n in range(8) for s in [(sender, peer)[n % 2]]))

    assert all(result.sent for result in results)
    refused, *later = api.fake.sent()
    assert refused.result is None and len(later) == 8
    assert min(call.at for call in later) - refused.at >= 1.0  # the slots booked before the pause were given up


async def test_403_deactivates_the_chat_without_retrying(db, api, make):
    await chat_row(USER_ID)
    api.fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")

    result = await make().send(USER_ID, "hello")

    assert (result.outcome, result.chat_id) == (Outcome.BLOCKED, USER_ID)
    assert "blocked by the user" in result.error
    assert len(api.fake.sent()) == 1
    assert not (await TelegramChat.get(chat_id=USER_ID)).active


async def test_chat_not_found_deactivates_the_chat(db, api, make):
    await chat_row(GROUP_ID, "group")
    api.fake.fail_next("sendMessage", 400, "Bad Request: chat not found")

    result = await make().send(GROUP_ID, "hello")

    assert result.outcome is Outcome.BLOCKED
    assert len(api.fake.sent()) == 1
    assert not (await TelegramChat.get(chat_id=GROUP_ID)).active


async def test_another_bad_request_fails_and_leaves_the_chat_active(db, api, make):
    await chat_row(USER_ID)
    api.fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at "
                                           "byte offset 0")

    result = await make().send(USER_ID, "<x>")

    assert result.outcome is Outcome.FAILED and "can't parse entities" in result.error
    assert len(api.fake.sent()) == 1
    assert (await TelegramChat.get(chat_id=USER_ID)).active


async def test_a_group_migrated_to_a_supergroup_is_followed_and_gets_the_message(db, api, make):
    group = await chat_row(GROUP_ID, "group")
    api.fake.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                       migrate_to_chat_id=SUPERGROUP_ID)

    result = await make().send(GROUP_ID, "hello")

    assert (result.outcome, result.chat_id) == (Outcome.SENT, SUPERGROUP_ID)
    assert [call.chat_id for call in api.fake.sent()] == [GROUP_ID, SUPERGROUP_ID]
    assert api.fake.sent()[1].text == "hello"
    moved = await TelegramChat.get(chat_id=SUPERGROUP_ID)
    assert (moved.account_id, moved.chat_type) == (group.account_id, "supergroup")
    assert not await TelegramChat.filter(chat_id=GROUP_ID).exists()


async def test_server_errors_are_retried_until_the_message_goes(db, api, make):
    await chat_row(USER_ID)
    api.fake.fail_next("sendMessage", 502, "Bad Gateway")
    api.fake.fail_next("sendMessage", 500, "Internal Server Error")

    result = await make(chat_interval=0).send(USER_ID, "hello")

    assert result.sent and result.message_id is not None
    calls = api.fake.sent()
    assert len(calls) == 3 and [call.result is not None for call in calls] == [False, False, True]


async def test_persistent_server_errors_fail_after_a_few_attempts(db, api, make):
    await chat_row(USER_ID)
    for _ in range(3):
        api.fake.fail_next("sendMessage", 500, "Internal Server Error")

    result = await make(attempts=3, chat_interval=0).send(USER_ID, "hello")

    assert result.outcome is Outcome.FAILED and "Internal Server Error" in result.error
    assert len(api.fake.sent()) == 3
    assert (await TelegramChat.get(chat_id=USER_ID)).active


class StallingTelegram(FakeTelegram):
    """Answers the first `stalls` sendMessage calls only after `delay` s (and does not record them)."""

    def __init__(self, stalls: int, delay: float) -> None:
        super().__init__()
        self.stalls, self.delay, self.stalled = stalls, delay, 0

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "sendMessage" and self.stalled < self.stalls:
            self.stalled += 1
            await asyncio.sleep(self.delay)
            return web.json_response({"ok": False, "error_code": 504, "description": "Gateway Timeout"}, status=504)
        return await super().handle(request)


async def test_a_timeout_is_retried(make):
    async for slow in serve(StallingTelegram(stalls=1, delay=1.0)):
        result = await make(base=slow.base, request_timeout=0.3, chat_interval=0).send(USER_ID, "hello")

        assert result.sent
        assert slow.fake.stalled == 1 and len(slow.fake.sent()) == 1


async def test_an_unreachable_api_fails_after_a_few_attempts(make):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    result = await make(base=f"http://127.0.0.1:{port}", attempts=3, chat_interval=0).send(USER_ID, "hello")

    assert result.outcome is Outcome.FAILED and "Cannot connect" in result.error


START = datetime(2026, 11, 28, 14, 35, tzinfo=UTC)
ROUND = ContestInfo(42, "codeforces", "42", "Codeforces Round 42 (Div. 2)", "https://codeforces.com/contest/42",
                    START, 7200, "Codeforces")


async def test_reminder_buttons_snooze_and_open_the_contest(api, make):
    i18n = make_i18n()
    keyboard = reminder_keyboard(ROUND.url, "Open", again_button(i18n, "en", ROUND, START - timedelta(hours=1)))
    assert (await make().send(USER_ID, "<b>Codeforces Round</b> starts in 1 hour", keyboard)).sent

    (call,) = api.fake.sent()
    assert call.buttons() == [{"text": "🔔 Again in 10 min", "callback_data": "snooze:42:10"},
                              {"text": "Open", "url": "https://codeforces.com/contest/42"}]
    assert Snooze.unpack(call.buttons()[0]["callback_data"]) == Snooze(contest_id=42, minutes=10)


def reminder_buttons(before_start: timedelta, language: str = "en", notice: bool = False) -> list[dict[str, Any]]:
    """The buttons of a one-contest reminder (or moved notice) rendered `before_start` ahead of the start."""
    content = Notice("moved", ROUND, START - timedelta(hours=2)) if notice else Reminders((Reminder(ROUND, 600),))
    _, markup = telegram_message(make_i18n(), content, Locale(language, "Europe/Moscow"), START - before_start)
    return [button for row in (markup or {}).get("inline_keyboard", []) for button in row]


@pytest.mark.parametrize("notice", [False, True])
def test_snooze_is_offered_only_when_it_lands_before_the_start(notice):
    open_button = {"text": "Open the contest", "url": ROUND.url}
    snooze = {"text": "🔔 Again in 10 min", "callback_data": "snooze:42:10"}
    at_start = {"text": "🔔 Remind me at the start", "callback_data": RemindAtStart(contest_id=42).pack()}
    assert reminder_buttons(timedelta(hours=1), notice=notice) == [snooze, open_button]
    assert reminder_buttons(timedelta(minutes=10, seconds=1), notice=notice) == [snooze, open_button]
    assert reminder_buttons(timedelta(minutes=10), notice=notice) == [at_start, open_button]  # the 10-minute reminder
    assert reminder_buttons(timedelta(minutes=3), notice=notice) == [at_start, open_button]
    assert reminder_buttons(timedelta(0), notice=notice) == [open_button]  # started: nothing to come back for
    assert reminder_buttons(-timedelta(minutes=5), notice=notice) == [open_button]
    assert [b["text"] for b in reminder_buttons(timedelta(minutes=10), "ru", notice)] == [
        "🔔 Напомнить в момент начала", "Открыть контест"]


# the limits


async def test_one_message_per_second_per_chat(api, make, shared):
    sender = make(shared)
    peer = peer_of(sender, make, shared)

    await asyncio.gather(sender.send(USER_ID, "one"), peer.send(USER_ID, "two"), sender.send(USER_ID + 1, "else"))

    first, second = api.fake.sent(chat_id=USER_ID)
    assert 0.95 <= second.at - first.at < 1.5
    (elsewhere,) = api.fake.sent(chat_id=USER_ID + 1)
    assert elsewhere.at - first.at < 0.5  # another chat does not wait for this one


async def test_a_group_gets_at_most_its_limit_per_window(api, make, shared):
    limits = {"chat_interval": 0, "group_limit": 3, "group_window": 1.0}
    sender = make(shared, **limits)
    peer = peer_of(sender, make, shared, **limits)

    await asyncio.gather(*(s.send(GROUP_ID, f"#{n}") for n, s in enumerate([sender, peer, sender, peer, sender])))

    calls = api.fake.sent(chat_id=GROUP_ID)
    assert calls[2].at - calls[0].at < 0.5
    assert calls[3].at - calls[0].at >= 0.95 and calls[4].at - calls[1].at >= 0.95


async def test_the_21st_message_to_a_group_within_a_minute_waits(api, make, shared):
    sender = make(shared, chat_interval=0)  # the real group limit: 20 per 60 s

    await asyncio.gather(*(sender.send(GROUP_ID, f"#{n}") for n in range(20)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sender.send(GROUP_ID, "#21"), 1.0)
    assert len(api.fake.sent(chat_id=GROUP_ID)) == 20

    await asyncio.gather(*(sender.send(USER_ID, f"#{n}") for n in range(21)))  # no such limit in private chats
    assert len(api.fake.sent(chat_id=USER_ID)) == 21


async def test_the_bot_sends_about_30_messages_a_second(api, make):
    sender = make(per_second=30)

    await asyncio.gather(*(sender.send(USER_ID + n, f"#{n}") for n in range(90)))

    calls = api.fake.sent()
    span = report("in-process limiter", calls)
    assert 2.9 <= span < 3.6
    assert busiest_second(calls) <= 32


async def test_two_senders_sharing_redis_send_about_30_messages_a_second_together(api, make, redis_url):
    one, two = make(redis_url, per_second=30), make(redis_url, per_second=30)

    await asyncio.gather(*(sender.send(USER_ID + n, f"#{n}") for n in range(90) for sender in [(one, two)[n % 2]]))

    calls = api.fake.sent()
    span = report("two senders sharing the Redis limiter", calls)
    assert 2.9 <= span < 3.6
    assert busiest_second(calls) <= 32


WORKER = """
import asyncio, sys, time
from notify.limits import make_limiter

async def main(url, first):
    limiter = make_limiter(url, 30)
    async def turn(chat):
        await limiter.wait_turn(chat)
        print(time.monotonic(), flush=True)
    await asyncio.gather(*(turn(first + n) for n in range(45)))
    await limiter.aclose()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_separate_processes_sharing_redis_keep_the_bot_wide_rate_together(redis_url):
    workers = [await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, redis_url, str(first), cwd=REPO,
                                                    stdout=asyncio.subprocess.PIPE)
               for first in (10_000, 20_000)]
    outputs = [(await worker.communicate())[0] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0]
    turns = sorted(float(line) for output in outputs for line in output.split())  # CLOCK_MONOTONIC: system-wide
    assert len(turns) == 90
    span = turns[-1] - turns[0]
    print(f"\ntwo processes sharing the Redis limiter: 90 turns in {span:.3f} s = {89 / span:.1f}/s")
    assert 2.9 <= span < 3.6


async def test_lifting_the_bot_wide_limit(api, make, shared):
    sender = make(shared, per_second=None)
    peer = peer_of(sender, make, shared, per_second=None)

    await asyncio.gather(*(s.send(USER_ID + n, f"#{n}") for n in range(200) for s in [(sender, peer)[n % 2]]))

    calls = api.fake.sent()
    assert len(calls) == 200
    assert report(f"[{'redis' if shared else 'local'}] bot-wide limit lifted", calls) < 2.0
