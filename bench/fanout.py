"""Reminder planning and fan-out on PostgreSQL.

Planning: 100,000 accounts (varied sites, keywords and offset pairs) x 30 upcoming contests x 2 offsets
each: seconds to make the whole plan, against the aim of <= 10 s.

    .venv/bin/python -m bench.fanout [--accounts 100000] [--contests 30]
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import combinations

import asyncpg
import uvloop

from fetchers.health import ensure_sites
from fetchers.registry import all_sites
from models.account import Account, TelegramChat
from models.contest import Contest
from models.db import count_queries, database
from scheduler.plan import plan_reminders

ADMIN = os.environ.get("CONTESTBELL_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
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
    name = f"cbbench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        async with database(ADMIN.rsplit("/", 1)[0] + "/" + name):
            await ensure_sites(site.info for site in all_sites().values())
            started = time.perf_counter()
            await seed(accounts, contests, random.Random(7), every_site)
            print(f"seeded {accounts:,} accounts and {contests} contests in {time.perf_counter() - started:.1f} s")
            now = datetime.now(UTC)
            started = time.perf_counter()
            with count_queries() as queries:
                plan = await plan_reminders(now, now)
            seconds = time.perf_counter() - started
            print(f"planning: {seconds:.2f} s for {plan.reminders:,} reminders in {len(plan.entries)} (contest, "
                  f"offset) entries, {queries.count} queries; {10 / seconds:.1f}x faster than the aim of 10 s")
    finally:
        admin = await asyncpg.connect(ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contests", type=int, default=30)
    arguments = parser.parse_args()
    uvloop.run(main(arguments.accounts, arguments.contests))
