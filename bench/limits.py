"""The bot-wide limit against a server as strict as Telegram: at most 30 messages arriving in any sliding 1.0 s.

A fake Bot API runs in its own process (so it has a core of its own) and answers 429 (retry_after 1) to a
sendMessage that arrives while 30 others arrived within the last second. 32 concurrent senders send through one
real `TelegramSender` (the bot's HTTP session, loopback), each message to a new private chat, for `--seconds`, with
`LocalLimiter` and with `RedisLimiter`, first with the cores idle, then with another process keeping one core
busy. Each is measured for the limiter as it is (`notify.limits`) and as it was before the sliding window
(loaded from git, commit BEFORE), in the same run. Printed for each: messages/s as the server saw them ((count - 1)
/ span from the first to the last arrival), the 429 answers, each against the aim (>= 29.5/s, no 429); then the
tightest span of 31 consecutive arrivals (a 429 when <= 1 s) and the time from the limiter's release to the
arrival (median, 99th percentile, max), which the limiter's margin must cover.

    .venv/bin/python -m bench.limits [--seconds 60] [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import os
import subprocess
import sys
import time
import types
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import uvloop
from aiohttp import web

from bot.app import make_bot
from notify import limits as after
from notify.telegram import TelegramSender
from tests.fake_telegram import TOKEN, FakeTelegram, parameters_of
from tests.processes import REPO

#: the limiter before the sliding window (notify/limits.py at this commit), measured alongside for comparison
BEFORE = "45eaeea019b756511e3a734742375d6337c21a20"
LIMIT = 30  # Telegram's: messages of the bot arriving within any 1.0 s
SENDERS = 32
AIM_RATE = 29.5


class WindowedTelegram(FakeTelegram):
    """The fake Bot API answering 429 to a sendMessage that arrives while LIMIT others arrived within 1.0 s
    (refused ones don't count). Arrival is when the handler starts, before the body is read."""

    def __init__(self, limit: int | None = LIMIT) -> None:
        super().__init__()
        self.limit = limit  # None: every message is taken (a fan-out with the limit lifted)
        self.recent: deque[float] = deque()
        self.arrivals: list[tuple[float, int]] = []  # (moment, chat) of every accepted sendMessage
        self.refused = 0
        self.app.router.add_get("/bench/stats", self.stats)
        self.app.router.add_post("/bench/reset", self.reset)

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "sendMessage":
            return await super().handle(request)
        moment = time.monotonic()
        while self.recent and moment - self.recent[0] > 1.0:
            self.recent.popleft()
        if self.limit and len(self.recent) >= self.limit:
            self.refused += 1
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                                      "after 1", "parameters": {"retry_after": 1}}, status=429)
        self.recent.append(moment)
        self.arrivals.append((moment, int((await parameters_of(request))["chat_id"])))
        response = await super().handle(request)
        self.calls.clear()  # nothing reads them here; a minute of sending would only pile them up
        self._shown.clear()
        return response

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"arrivals": self.arrivals, "refused": self.refused})

    async def reset(self, request: web.Request) -> web.Response:
        self.recent.clear()
        self.arrivals = []
        self.refused = 0
        return web.json_response({"ok": True})


async def serve(limit: int | None) -> None:
    """The server process: prints its port, then serves until it is terminated. It stands for Telegram, whose
    pauses are not what is measured: everything it loaded is frozen out of the garbage collector's way, or a full
    collection of this process (~100 ms) would delay arrivals beyond any margin."""
    runner = web.AppRunner(WindowedTelegram(limit).app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    gc.freeze()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


@asynccontextmanager
async def fake_api(limit: int | None = LIMIT) -> AsyncIterator[str]:
    """The fake (strict unless `limit` is None) in a process of its own; yields its base URL."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.limits", "--serve",
                                                   f"--limit={limit or 0}", cwd=REPO, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 30))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


@contextmanager
def busy_core(busy: bool) -> Iterator[None]:
    """Another process keeping one core busy for as long as the block runs (nothing when not `busy`)."""
    if not busy:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1)  # the load is there before the measuring starts
        yield
    finally:
        hog.terminate()
        hog.wait()


def limiter_before() -> types.ModuleType:
    """notify/limits.py as it was at BEFORE, as a module of its own."""
    source = subprocess.run(["git", "show", f"{BEFORE}:notify/limits.py"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType("bench.limits_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{BEFORE[:7]}:notify/limits.py", "exec"), module.__dict__)
    return module


class Recording:
    """A limiter that notes when it released each chat's (latest) message."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.limits = inner.limits
        self.released: dict[int, float] = {}

    async def wait_turn(self, chat_id: int) -> None:
        await self.inner.wait_turn(chat_id)
        self.released[chat_id] = time.monotonic()

    async def pause_all(self, seconds: float) -> None:
        await self.inner.pause_all(seconds)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True)
class Figures:
    sent: int
    failed: int
    refused: int
    rate: float  # messages/s at the server
    tightest: float  # the shortest span of LIMIT + 1 consecutive arrivals, s
    latency: list[float]  # release to arrival, s, sorted
    worst_at: float  # s into the run when the slowest of them arrived

    @property
    def met(self) -> bool:
        return self.rate >= AIM_RATE and self.refused == 0

    def percentile(self, share: float) -> float:
        return self.latency[min(len(self.latency) - 1, int(share * len(self.latency)))]


@dataclass(frozen=True)
class Version:
    module: types.ModuleType
    label: str
    limits: Any  # the module's Limits


def make(version: Version, kind: str, redis_url: str) -> Any:
    """A limiter of the version, the Redis one under a prefix of its own (so runs share nothing)."""
    module, limits = version.module, version.limits
    if kind == "LocalLimiter":
        return module.LocalLimiter(limits)
    limiter = module.RedisLimiter.from_url(redis_url, limits)
    limiter.prefix = f"bench:{uuid.uuid4().hex[:8]}:{{telegram}}:"
    return limiter


async def drive(base: str, limiter: Any, seconds: float) -> Figures:
    """SENDERS concurrent senders through one TelegramSender for `seconds`, then what the server saw."""
    async with aiohttp.ClientSession() as http:
        await (await http.post(f"{base}/bench/reset")).release()
        recording = Recording(limiter)
        bot = make_bot(TOKEN, base)
        sender = TelegramSender(bot, recording)
        chats = itertools.count(10_000_000)
        deadline = time.monotonic() + seconds
        failed = 0

        async def send_until_deadline() -> None:
            nonlocal failed
            while time.monotonic() < deadline:
                failed += not (await sender.send(next(chats), "The round starts in 10 minutes")).sent

        try:
            await asyncio.gather(*(send_until_deadline() for _ in range(SENDERS)))
        finally:
            await bot.session.close()
            await limiter.aclose()
        async with http.get(f"{base}/bench/stats") as response:
            stats = await response.json()
    return figures(stats, recording.released, failed, deadline - seconds)


def figures(stats: dict[str, Any], released: dict[int, float], failed: int, started: float) -> Figures:
    arrivals = sorted(stats["arrivals"])
    moments = [moment for moment, _ in arrivals]
    span = moments[-1] - moments[0]
    tightest = min((b - a for a, b in zip(moments, moments[LIMIT:], strict=False)), default=float("inf"))
    latency = sorted((moment - released[chat], moment) for moment, chat in arrivals if chat in released)
    return Figures(len(moments), failed, stats["refused"], (len(moments) - 1) / span, tightest,
                   [taken for taken, _ in latency], latency[-1][1] - started)


def line(kind: str, label: str, result: Figures) -> str:
    aim = "met" if result.met else "MISSED"
    ms = [1000 * value for value in (result.percentile(0.5), result.percentile(0.99), result.latency[-1])]
    failed = f", {result.failed} failed" if result.failed else ""
    return (f"{kind:<13} {label:<20} {result.rate:6.2f}/s {result.refused:3d} x 429 (aim >= {AIM_RATE}/s, 0 x 429:"
            f" {aim:<6}) tightest 31 arrivals {1000 * result.tightest:7.1f} ms; release->arrival median "
            f"{ms[0]:.1f}, p99 {ms[1]:.1f}, max {ms[2]:.1f} ms (at {result.worst_at:.1f} s); {result.sent} sent"
            f"{failed}")


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main(arguments: argparse.Namespace) -> None:
    logging.getLogger("notify.telegram").setLevel(logging.ERROR)  # a 429 is counted, not logged
    before = limiter_before()
    versions = [Version(before, f"{BEFORE[:7]} at {arguments.rate_before:g}/s", before.Limits(arguments.rate_before)),
                Version(after, f"now at {arguments.rate:g}/s", after.Limits(arguments.rate, margin=arguments.margin))]
    if not arguments.before:
        versions = versions[1:]
    print(f"{SENDERS} senders, {arguments.seconds:g} s each, server: <= {LIMIT} arrivals in any 1.0 s; now: margin "
          f"{1000 * arguments.margin:g} ms")
    async with fake_api() as base:
        for busy in [load == "busy" for load in arguments.loads.split(",")]:
            with busy_core(busy):
                print(f"-- {'one core kept busy by another process' if busy else 'cores idle'} ({load()})",
                      flush=True)
                for kind in ("LocalLimiter", "RedisLimiter"):
                    for version in versions:
                        result = await drive(base, make(version, kind, arguments.redis), arguments.seconds)
                        print(line(kind, version.label, result), flush=True)
                        await asyncio.sleep(1.1)  # the server's window empties before the next run
                print(f"   ({load()})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--rate", type=float, default=30, help="per_second of the limiter as it is now")
    parser.add_argument("--rate-before", type=float, default=29, help="per_second before (its default was 29)")
    parser.add_argument("--margin", type=float, default=getattr(after, "MARGIN", 0.0),
                        help="the margin of the limiter as it is now")
    parser.add_argument("--loads", default="idle,busy", help="idle, busy (one core kept busy), or both")
    parser.add_argument("--no-before", dest="before", action="store_false", help="only the limiter as it is now")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=LIMIT, help=argparse.SUPPRESS)
    given = parser.parse_args()
    uvloop.run(serve(given.limit or None) if given.serve else main(given))
