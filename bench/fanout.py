"""Reminder planning, digest planning and fan-out on PostgreSQL, each figure next to its aim, and the same
figures of the code before the channel redesign (--before REV) from the same run.

- planning: 100,000 accounts (varied sites, keywords and offset pairs) x 30 upcoming contests x 2 offsets:
  seconds to make the whole plan (aim: as before, 4.7-6.3 s, or better);
- digest planning: 100,000 accounts with daily or weekly digests in 12 zones: seconds (aim: seconds);
- fan-out, limit lifted: 20,000 accounts due at one moment, the reminder clock sending through the real
  Telegram channel to a fake Bot API in another process: messages/s end to end, from the due moment until
  every row is settled (claim, render, send, mark); duplicates and losses (aim: >= 2,000/s, 0, 0);
- fan-out at the default limits for 60 s against a fake that answers 429 to the 31st message in any sliding
  second: messages/s at the server and 429s (aim: >= 29.5/s, 0 x 429), also while another process keeps one
  core busy.

    .venv/bin/python -m bench.fanout [--accounts 100000] [--fanout 20000] [--seconds 60] [--before REV | --no-before]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import aiohttp
import uvloop

from bench.limits import busy_core, fake_api, load
from bench.scratch import scratch_database
from bot.app import make_bot
from contestbell.settings import Settings
from fetchers.registry import all_sites
from models.account import Account, Delivery, EmailAddress, TelegramChat
from models.contest import Contest
from models.db import count_queries
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.plan import Plan, plan_reminders
from scheduler.reminder_clock import ReminderClock
from tests.captures import FIXTURES
from tests.fake_telegram import TOKEN

REPO = Path(__file__).resolve().parents[1]
#: the last commit before the channel redesign (issue 11)
BEFORE = "cd01fdb"
OFFSET_PAIRS = [[86400, 3600], [3600, 600], [86400, 600], [10800, 900], [7200, 300]]
KEYWORDS = [[], [], [], ["div. 2"], ["div. 1"], ["educational"]]
ZONES = ["UTC", "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Los_Angeles", "Asia/Kolkata",
         "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "Africa/Cairo", "Asia/Tehran"]
AIMS = {"planning": 6.3, "digests": 10.0, "lifted": 2000.0, "limited": 29.5}


def reminder_run(sender: TelegramSender) -> ReminderRun:
    """The reminder run through Telegram, in either shape of the code (before the redesign it took the
    sender itself)."""
    try:
        from notify.telegram import TelegramChannel
    except ImportError:
        return ReminderRun(make_i18n(), sender)  # type: ignore[call-arg, arg-type]
    return ReminderRun([TelegramChannel(make_i18n(), sender)])


async def make_plan(now: datetime) -> Plan:
    try:
        from tests.channels import planning_channels
    except ImportError:
        return await plan_reminders(now, now)  # type: ignore[call-arg]
    return await plan_reminders(now, now, planning_channels())


# planning


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


async def planning(accounts: int, contests: int) -> None:
    for every_site in (False, True):
        async with scratch_database():
            await seed(accounts, contests, random.Random(7), every_site)
            now = datetime.now(UTC)
            started = time.perf_counter()
            with count_queries() as queries:
                plan = await make_plan(now)
            seconds = time.perf_counter() - started
            what = "every site, no keywords" if every_site else "varied sites and keywords"
            print(f"planning ({what}): {seconds:.2f} s for {plan.reminders:,} reminders, {queries.count} queries "
                  f"(aim: <= {AIMS['planning']} s)", flush=True)


async def digest_planning(accounts: int) -> None:
    try:
        from notify.email import EmailChannel
        from scheduler.digests import digest_readers, next_digests
    except ImportError:
        print("digest planning: (no digests in this version)")
        return
    rng = random.Random(11)
    async with scratch_database():
        await Account.bulk_create([
            Account(timezone=rng.choice(ZONES), digest=rng.choice(["daily", "weekly"]), digest_weekday=rng.randrange(7),
                    digest_minute=rng.randrange(1440), sites=None) for _ in range(accounts)], batch_size=2000)
        ids = await Account.all().values_list("id", flat=True)
        verified = datetime.now(UTC)
        await EmailAddress.bulk_create([EmailAddress(address=f"p{i}@example.org", account_id=i, token=f"t{i:040d}",
                                                     verified_at=verified) for i in ids], batch_size=2000)
        channel = EmailChannel(make_i18n(), None, "https://bell.example.org")  # type: ignore[arg-type]
        started = time.perf_counter()
        due = next_digests(await digest_readers(channel), datetime.now(UTC))
        seconds = time.perf_counter() - started
        print(f"digest planning: {seconds:.2f} s for {len(due):,} accounts' next digests (aim: seconds; "
              f"<= {AIMS['digests']:g} s)", flush=True)


# fan-out


async def subscribers(people: int) -> datetime:
    """`people` accounts reminded 10 minutes before one contest, due 5 s from now; returns the due moment."""
    await Account.bulk_create([Account(sites=["codeforces"], reminder_offsets=[600]) for _ in range(people)],
                              batch_size=2000)
    ids = await Account.all().values_list("id", flat=True)
    await TelegramChat.bulk_create([TelegramChat(chat_id=10_000_000 + i, account_id=i, chat_type="private")
                                    for i in ids], batch_size=2000)
    due = datetime.now(UTC) + timedelta(seconds=5)
    await Contest.create(site_id="codeforces", key="fanout", title="Fan-out Round", url="https://example.org/f",
                         start=due + timedelta(seconds=600), end=due + timedelta(seconds=7800), duration=7200)
    return due


async def fan_out(people: int, rate: float | None, seconds: float, busy: bool = False) -> None:
    """One contest, `people` subscribers, the clock running until everyone got it or `seconds` passed."""
    async with scratch_database(), fake_api(limit=30 if rate else None) as base, aiohttp.ClientSession() as http:
        due = await subscribers(people)
        bot = make_bot(TOKEN, base)
        scheduler = new_scheduler()
        scheduler.start()
        clock = ReminderClock(scheduler, reminder_run(TelegramSender(bot, make_limiter(None, rate))))
        with busy_core(busy):
            try:
                await clock.start()
                deadline = time.monotonic() + seconds + (due - datetime.now(UTC)).total_seconds()
                while time.monotonic() < deadline and await Delivery.filter(status="sent").count() < people:
                    await asyncio.sleep(0.1)
                settled = datetime.now(UTC)
            finally:
                scheduler.shutdown(wait=False)
                await bot.session.close()
            async with http.get(f"{base}/bench/stats") as response:
                stats = await response.json()
            statuses = Counter(await Delivery.all().values_list("status", flat=True))
        report(stats, statuses, people, due, settled, rate, busy)


def report(stats: dict, statuses: Counter, people: int, due: datetime, settled: datetime, rate: float | None,
           busy: bool) -> None:
    arrivals = sorted(stats["arrivals"])
    chats = Counter(chat for _, chat in arrivals)
    duplicates = sum(n - 1 for n in chats.values())
    span = arrivals[-1][0] - arrivals[0][0] if len(arrivals) > 1 else float("nan")
    at_server = (len(arrivals) - 1) / span
    if rate:
        what = f"default limits ({rate:g}/s){', one core kept busy' if busy else ''}"
        print(f"fan-out, {what}: {at_server:.2f} messages/s at the server, {stats['refused']} x 429, "
              f"{len(arrivals):,} delivered (aim: >= {AIMS['limited']}/s, 0 x 429; {at_server / 30:.3f}x the limit)"
              f"; {load()}", flush=True)
        return
    end_to_end = statuses["sent"] / (settled - due).total_seconds()
    print(f"fan-out, limit lifted: {end_to_end:,.0f} messages/s end to end (due -> all {statuses['sent']:,} "
          f"settled in {(settled - due).total_seconds():.2f} s), {at_server:,.0f}/s at the server; duplicates "
          f"{duplicates}, lost {people - len(chats)}, rows {dict(statuses)} (aim: >= {AIMS['lifted']:,.0f}/s, 0, 0; "
          f"{end_to_end / AIMS['lifted']:.2f}x); {load()}", flush=True)


# the code before, from the same run


def run_before(revision: str, arguments: list[str]) -> None:
    """This benchmark on the code at `revision` (its own migrations and dispatcher), in a copy of that tree."""
    with tempfile.TemporaryDirectory(prefix="contestbell-before-") as tree:
        archive = subprocess.run(["git", "archive", revision], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        for name in ("bench/fanout.py", "bench/limits.py", "tests/fake_telegram.py"):  # the same harness
            shutil.copy(REPO / name, Path(tree) / name)
        label = f"--label=before the redesign ({revision})"
        subprocess.run([sys.executable, "-m", "bench.fanout", "--no-before", label, *arguments], cwd=tree,
                       check=False, env={**os.environ, "PYTHONPATH": tree, "CONTESTBELL_FIXTURES": str(FIXTURES)})


async def everything(arguments: argparse.Namespace) -> None:
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # the fan-out cut off at the end is expected
    logging.getLogger("notify.telegram").setLevel(logging.ERROR)  # a 429 is counted, not logged
    parts = set(arguments.only.split(","))
    print(f"== {arguments.label} ({load()})", flush=True)
    if "planning" in parts:
        await planning(arguments.accounts, arguments.contests)
    if "digests" in parts:
        await digest_planning(arguments.accounts)
    if "lifted" in parts:
        await fan_out(arguments.fanout, None, arguments.seconds)
    if "limited" in parts:
        for busy in (False, True):
            await fan_out(arguments.fanout, Settings().telegram_rate, arguments.seconds, busy)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contests", type=int, default=30)
    parser.add_argument("--fanout", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--only", default="planning,digests,lifted,limited")
    parser.add_argument("--before", default=BEFORE, help="the revision to compare with (default: before issue 11)")
    parser.add_argument("--no-before", dest="before", action="store_const", const=None)
    parser.add_argument("--label", default="after the redesign", help=argparse.SUPPRESS)
    given = parser.parse_args()
    uvloop.run(everything(given))
    if given.before:
        run_before(given.before, [f"--accounts={given.accounts}", f"--contests={given.contests}",
                                  f"--fanout={given.fanout}", f"--seconds={given.seconds}", f"--only={given.only}"])
