"""Ingest throughput on PostgreSQL: first ingest and unchanged re-ingest of all Codeforces and Gym captures.

Prints contests per second and statements per fetch for each phase, the ratio to the issue's aims
(first ingest >= 5,000 contests/s, unchanged re-ingest >= 20,000 contests/s), and, as a reference measured
in the same run, a naive per-contest `update_or_create` loop over the same data.

    .venv/bin/python -m bench.ingest [--rounds 20]

It creates and drops a scratch database `cbbench_*` on CONTESTBELL_BENCH_PG (default
postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.scratch import scratch_database
from fetchers import codeforces, codeforces_gym
from fetchers.contest import Contest
from fetchers.ingest import ingest
from models.contest import Contest as StoredContest
from models.db import count_queries

FIXTURES = Path(os.environ.get("CONTESTBELL_FIXTURES", Path(__file__).resolve().parents[2] / "shared" / "fixtures"))
NOW = datetime(2026, 10, 6, 12, 38, tzinfo=UTC)
AIM_FIRST, AIM_UNCHANGED = 5_000, 20_000


def load_union() -> dict[str, list[Contest]]:
    """Every Codeforces capture (the newest row of each contest wins) and the Gym capture."""
    captures = sorted((FIXTURES / "codeforces").rglob("contest_list_*.json"))
    by_key: dict[str, Contest] = {}
    for path in captures:
        if "gym" in path.name:
            continue
        for contest in codeforces.parse(json.loads(path.read_text(encoding="utf-8"))):
            by_key[contest.key] = contest
    gym = codeforces_gym.parse(json.loads((FIXTURES / "codeforces/contest_list_gym_2023-09-03T1024Z.json")
                                          .read_text(encoding="utf-8")))
    return {"codeforces": list(by_key.values()), "codeforces-gym": gym}


async def ingest_all(data: dict[str, list[Contest]]) -> tuple[float, list[int]]:
    """Ingest each site once; the seconds taken and the statements each fetch sent."""
    statements = []
    started = time.perf_counter()
    for site, contests in data.items():
        with count_queries() as counter:
            await ingest(site, contests, NOW)
        statements.append(counter.count)
    return time.perf_counter() - started, statements


async def naive_loop(data: dict[str, list[Contest]]) -> float:
    """The reference: one update_or_create per contest (what set-based ingest avoids)."""
    started = time.perf_counter()
    for site, contests in data.items():
        for c in contests:
            await StoredContest.update_or_create(
                defaults={"title": c.title, "url": c.url, "start": c.start, "end": c.end, "duration": c.duration,
                          "kind": c.kind}, site_id=site, key=c.key)
    return time.perf_counter() - started


def report(label: str, contests: int, seconds: float, aim: float | None, statements: list[int]) -> None:
    rate = contests / seconds
    aim_text = f", {rate / aim:.2f}x the aim of {aim:,.0f}/s" if aim else ""
    print(f"{label:<28} {contests:>6} contests in {seconds * 1000:8.1f} ms = {rate:>9,.0f} contests/s{aim_text}; "
          f"statements per fetch: {statements}")


async def main(rounds: int) -> None:
    data = load_union()
    total = sum(len(c) for c in data.values())
    print(f"data: {', '.join(f'{site} {len(c)}' for site, c in data.items())} = {total} contests; PostgreSQL")
    async with scratch_database():
        first_seconds, first_statements = await ingest_all(data)
        report("first ingest", total, first_seconds, AIM_FIRST, first_statements)
        timings = [await ingest_all(data) for _ in range(rounds)]
        best = min(seconds for seconds, _ in timings)
        median = sorted(seconds for seconds, _ in timings)[len(timings) // 2]
        report(f"unchanged re-ingest (best of {rounds})", total, best, AIM_UNCHANGED, timings[0][1])
        report("unchanged re-ingest (median)", total, median, AIM_UNCHANGED, timings[0][1])
        await StoredContest.all().delete()
        naive_seconds = await naive_loop(data)
        print(f"{'reference: naive loop':<28} {total:>6} contests in {naive_seconds * 1000:8.1f} ms = "
              f"{total / naive_seconds:>9,.0f} contests/s (first ingest is {naive_seconds / first_seconds:.1f}x "
              f"faster, unchanged re-ingest {naive_seconds / best:.1f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(main(parser.parse_args().rounds))
