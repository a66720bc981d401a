"""Bot throughput end to end: Telegram webhook in -> `sendMessage` out at a fake Bot API server.

`contestbell web` runs as its own process (webhook mode, PostgreSQL with 5,000 upcoming contests); this
process serves the fake Bot API and sends updates from many users, at most --concurrency in flight.
Prints updates/s and latency percentiles for /upcoming, and for /help (no database work) measured the
same way in the same run as the reference, with the ratio to the issue's aims (>= 300/s, p99 <= 100 ms).

    .venv/bin/python -m bench.bot [--updates 3000] [--concurrency 8,64]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import uvloop
from aiohttp import web

from bench.scratch import scratch_url
from fetchers.health import ensure_sites
from fetchers.registry import all_sites
from models.contest import Contest
from models.db import database
from tests.bot.updates import private_message
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import contestbell_env, free_port

SECRET = "bench-secret"
REPO = Path(__file__).resolve().parents[1]


class LatencyProbe(FakeTelegram):
    """The fake Bot API, noting when each chat's reply arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.replied: dict[int, asyncio.Future[float]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        response = await super().handle(request)
        if request.match_info["method"] == "sendMessage" and self.calls:
            future = self.replied.pop(self.calls[-1].chat_id or 0, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        return response


async def seed(url: str, count: int) -> None:
    now = datetime.now(UTC)
    slugs = list(all_sites())
    async with database(url):
        await ensure_sites(site.info for site in all_sites().values())
        await Contest.bulk_create([
            Contest(site_id=slugs[i % len(slugs)], key=f"bench-{i}", title=f"Bench Round {i} (Div. {1 + i % 3})",
                    url=f"https://example.org/{i}", start=now + timedelta(minutes=10 + i * 7),
                    end=now + timedelta(minutes=130 + i * 7), duration=7200)
            for i in range(count)
        ], batch_size=1000)


async def one(session: aiohttp.ClientSession, base: str, probe: LatencyProbe, update: dict) -> float:
    chat_id = update["message"]["chat"]["id"]
    future = asyncio.get_running_loop().create_future()
    probe.replied[chat_id] = future
    started = time.perf_counter()
    async with session.post(base + "/telegram/webhook", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
        assert response.status == 200, response.status
    return await asyncio.wait_for(future, 30) - started


async def run(session, base, probe, text: str, users: list[int], rounds: int, concurrency: int) -> tuple[float, list]:
    gate = asyncio.Semaphore(concurrency)

    async def limited(update: dict) -> float:
        async with gate:
            return await one(session, base, probe, update)

    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):  # one update per user per round: no chat has two replies pending at once
        latencies += await asyncio.gather(*(limited(private_message(text, user_id=u)) for u in users))
    return time.perf_counter() - started, sorted(latencies)


def describe(label: str, elapsed: float, latencies: list[float]) -> tuple[float, float]:
    rate = len(latencies) / elapsed
    p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{label:<10} {len(latencies):>5} updates in {elapsed:6.2f} s = {rate:7.1f} updates/s; "
          f"latency p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, max {latencies[-1] * 1000:6.1f} ms")
    return rate, p99


async def main(updates: int, concurrency: list[int], contests: int, profile_to: str | None) -> None:
    async with scratch_url() as url:
        await measure(url, updates, concurrency, contests, profile_to)


async def measure(url: str, updates: int, concurrency: list[int], contests: int, profile_to: str | None) -> None:
    probe = LatencyProbe()
    runner = web.AppRunner(probe.app, access_log=None)
    await runner.setup()
    api_port, web_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    process = None
    try:
        await seed(url, contests)
        env = contestbell_env(database_url=url, http_port=str(web_port), public_url="https://bench.invalid",
                              secret_key=secrets.token_urlsafe(48), telegram_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{api_port}",
                              telegram_webhook_secret=SECRET, log_level="WARNING")
        profile = ["-m", "cProfile", "-o", profile_to] if profile_to else []
        process = subprocess.Popen([sys.executable, *profile, "-m", "contestbell.cli", "web"], env=env, cwd=REPO)
        base = f"http://127.0.0.1:{web_port}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(concurrency))) as session:
            await wait_for_web(session, base)
            users = list(range(10_000_000, 10_000_000 + max(1, updates // 3)))
            rounds = max(1, updates // len(users))
            await run(session, base, probe, "/start", users, 1, max(concurrency))  # accounts exist before timing
            print(f"{contests} upcoming contests in PostgreSQL; {len(users)} users x {rounds} rounds per command; "
                  "`contestbell web` in its own process")
            for level in concurrency:
                # users may send 8 commands per 10 s (flood control): let the previous level's window pass
                await asyncio.sleep(10)
                print(f"-- {level} updates in flight")
                help_rate, _ = describe("/help", *await run(session, base, probe, "/help", users, rounds, level))
                rate, p99 = describe("/upcoming", *await run(session, base, probe, "/upcoming", users, rounds,
                                                              level))
                print(f"/upcoming: {rate / 300:.2f}x the aim of 300 updates/s, p99 {p99:.1f} ms vs the aim of "
                      f"100 ms; {rate / help_rate:.2f}x the rate of /help (reference, no database work)")
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        await runner.cleanup()


async def wait_for_web(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with session.get(base + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("contestbell web did not start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--concurrency", default="8,64", help="updates in flight, one run per value")
    parser.add_argument("--contests", type=int, default=5000)
    parser.add_argument("--profile", metavar="FILE", help="run `contestbell web` under cProfile, stats to FILE")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.concurrency.split(",")]
    uvloop.run(main(arguments.updates, levels, arguments.contests, arguments.profile))
