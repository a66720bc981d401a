"""Reminder planning and fan-out on PostgreSQL.

Planning: 100,000 accounts (varied sites, keywords and offset pairs) x 30 upcoming contests x 2 offsets
each: seconds to make the whole plan, against the aim of <= 10 s.

Fan-out: 20,000 accounts subscribed to one contest, the reminder clock sending through the real Telegram
sender to a fake Bot API on loopback (in this process): messages/s end to end (claim, render, send, mark) with
the bot-wide rate lifted, against the aim of >= 1,000/s, then with the default limits against a fake server
that answers 429 past 30 messages/s, measured over 60 s; duplicates, losses and lateness after the due time.

    .venv/bin/python -m bench.fanout [--accounts 100000] [--contests 30] [--fanout 20000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from itertools import combinations

import uvloop
from aiohttp import web

from bench.scratch import scratch_database
from bot.app import make_bot
from contestbell.settings import Settings
from fetchers.registry import all_sites
from models.account import Account, TelegramChat
from models.contest import Contest
from models.db import count_queries
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.plan import plan_reminders
from scheduler.reminder_clock import ReminderClock
from tests.channels import planning_channels
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import free_port

OFFSET_PAIRS = [[86400, 3600], [3600, 600], [86400, 600], [10800, 900], [7200, 300]]
KEYWORDS = [[], [], [], ["div. 2"], ["div. 1"], ["educational"]]


async def seed(accounts: int, contests: int, rng: random.Random, every_site: bool) -> None:
    slugs = list(all_sites())
    site_sets = [slugs] if every_site else [list(c) for n in (1, 2, 3, 4) for c in combinations(slugs, n)]
    now = datetime.now(UTC)
    await Contest.bulk_create([
        Contest(site_id=slugs[i % len(slugs)], key=f"b{i}", title=f"Round {i} (Div. {1 + i % 3})",
                url=f"https://example.org/{i}", start=now + timedelta(hours=2 + i * 4),
                end=now + timedelta(hours=4 + i * 4), duration=7200)
        for i in range(contests)], batch_size=1000)
    await Account.bulk_create([
        Account(sites=rng.choice(site_sets), reminder_offsets=rng.choice(OFFSET_PAIRS),
                exclude_keywords=[] if every_site else rng.choice(KEYWORDS), timezone="Europe/Berlin")
        for _ in range(accounts)], batch_size=2000)
    ids = await Account.all().values_list("id", flat=True)
    await TelegramChat.bulk_create([TelegramChat(chat_id=10_000_000 + i, account_id=i, chat_type="private")
                                    for i in ids], batch_size=2000)


async def main(accounts: int, contests: int) -> None:
    for every_site in (False, True):
        print("-- every account follows every site, no keywords" if every_site
              else "-- varied sites (1 to 4 of 8), keywords and offset pairs")
        await measure(accounts, contests, every_site)


async def measure(accounts: int, contests: int, every_site: bool) -> None:
    async with scratch_database():
        started = time.perf_counter()
        await seed(accounts, contests, random.Random(7), every_site)
        print(f"seeded {accounts:,} accounts and {contests} contests in {time.perf_counter() - started:.1f} s")
        now = datetime.now(UTC)
        started = time.perf_counter()
        with count_queries() as queries:
            plan = await plan_reminders(now, now, planning_channels())
        seconds = time.perf_counter() - started
        print(f"planning: {seconds:.2f} s for {plan.reminders:,} reminders in {len(plan.entries)} (contest, "
              f"offset) entries, {queries.count} queries; {10 / seconds:.1f}x faster than the aim of 10 s")


class StrictTelegram(FakeTelegram):
    """The fake Bot API, enforcing about 30 messages/s for the bot as Telegram does (429 past that)."""

    def __init__(self, per_second: float | None) -> None:
        super().__init__()
        self.per_second = per_second
        self.recent: deque[float] = deque()
        self.refused = 0

    async def handle(self, request):
        if self.per_second and request.match_info["method"] == "sendMessage":
            moment = time.monotonic()
            while self.recent and moment - self.recent[0] > 1.0:
                self.recent.popleft()
            if len(self.recent) >= self.per_second:
                self.refused += 1
                self.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            else:
                self.recent.append(moment)
        return await super().handle(request)


async def fan_out(people: int, rate: float | None, seconds: float) -> None:
    """One contest, `people` subscribers, the clock running until `seconds` pass or everyone got it."""
    await Account.bulk_create([Account(sites=["codeforces"], reminder_offsets=[600]) for _ in range(people)],
                              batch_size=2000)
    ids = await Account.all().values_list("id", flat=True)
    await TelegramChat.bulk_create([TelegramChat(chat_id=10_000_000 + i, account_id=i, chat_type="private")
                                    for i in ids], batch_size=2000)
    due = datetime.now(UTC) + timedelta(seconds=5)
    await Contest.create(site_id="codeforces", key="fanout", title="Fan-out Round", url="https://example.org/f",
                         start=due + timedelta(seconds=600), end=due + timedelta(seconds=7800), duration=7200)
    fake = StrictTelegram(30 if rate else None)  # Telegram's limit, whatever rate we send at
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bot = make_bot(TOKEN, f"http://127.0.0.1:{port}")
    scheduler = new_scheduler()
    scheduler.start()
    channel = TelegramChannel(make_i18n(), TelegramSender(bot, make_limiter(None, rate)))
    clock = ReminderClock(scheduler, ReminderRun([channel]))
    try:
        await clock.start()
        deadline = time.monotonic() + seconds + (due - datetime.now(UTC)).total_seconds()
        while len(fake.sent()) < people and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
    finally:
        scheduler.shutdown(wait=False)
        await bot.session.close()
        await runner.cleanup()
    report_fan_out(fake, people, due, rate)


def report_fan_out(fake: StrictTelegram, people: int, due: datetime, rate: float | None) -> None:
    calls = [c for c in fake.sent() if c.result is not None]
    chats = Counter(c.chat_id for c in calls)
    duplicates = sum(n - 1 for n in chats.values())
    due_mono = time.monotonic() - (datetime.now(UTC) - due).total_seconds()
    lateness = sorted(c.at - due_mono for c in calls)
    span = lateness[-1] - lateness[0] if len(lateness) > 1 else 0.0
    measured = len(calls) / span if span else float("nan")
    label = f"default limits ({rate:g}/s)" if rate else "rate limit lifted"
    print(f"{label}: {len(calls):,} of {people:,} delivered at {measured:,.1f} messages/s; duplicates "
          f"{duplicates}; 429 answers {fake.refused}; lateness first {lateness[0] * 1000:.0f} ms, median "
          f"{lateness[len(lateness) // 2]:.2f} s")
    if rate:
        print(f"  {measured / 30:.3f}x Telegram's 30/s (aim: within 5 %, no 429); sending at {rate:g}/s")
    else:
        print(f"  {measured / 1000:.2f}x the aim of 1,000 messages/s; lost {people - len(chats)}")


async def fan_out_in_scratch(people: int, rate: float | None, seconds: float) -> None:
    async with scratch_database():
        await fan_out(people, rate, seconds)


async def everything(arguments: argparse.Namespace) -> None:
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # the fan-out cut off at the end is expected
    await main(arguments.accounts, arguments.contests)
    print(f"-- fan-out: {arguments.fanout:,} accounts, one contest")
    await fan_out_in_scratch(arguments.fanout, None, arguments.seconds)
    await fan_out_in_scratch(arguments.fanout, Settings().telegram_rate, arguments.seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contests", type=int, default=30)
    parser.add_argument("--fanout", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    uvloop.run(everything(parser.parse_args()))
