"""Web figures: the JSON API next to a bare aiohttp handler, and one change broadcast to 5,000 WebSockets.

`contestbell web` runs as its own process (PostgreSQL with 5,000 upcoming contests, Redis event bus).
1. wrk (`--latency`, the same settings for both) loads `GET /api/v1/contests?upcoming=1` on it, and a bare
   aiohttp handler in another process that returns the very same bytes; prints requests/s and p99 of both,
   with the issue's aims (>= 50 % of the bare rate, p99 <= 50 ms).
2. 5,000 WebSocket clients (spread over client processes) connect to /ws and wait for {"type": "hello"}; one
   contest is moved in the database and the bus rung on Redis, as a worker's ingest would; prints how long
   until every client had the change, counted from before the write (p50 and max; aim <= 1 s).

    .venv/bin/python -m bench.web [--contests 5000] [--duration 10] [--rounds 3] [--connections 32] [--sockets 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import uvloop
from aiohttp import web
from tortoise.transactions import in_transaction

from bench.bot import seed, wait_for_web
from bench.scratch import scratch_url
from fetchers.events import RedisBus
from models.contest import ChangeKind, Contest, ContestChange
from models.db import database
from tests.processes import contestbell_env, free_port

REPO = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("CONTESTBELL_BENCH_REDIS", "redis://127.0.0.1:6379/13")
API_PATH = "/api/v1/contests?upcoming=1"
WRK = "/usr/bin/wrk"
#: how long a client waits for the broadcast before it counts as not received
BROADCAST_TIMEOUT = 30.0


async def reschedule_one() -> None:
    """What a worker's ingest of a moved contest does: the contest row and its change row, in one transaction
    (the clock starts before it, as the change only exists once this commits)."""
    contest = await Contest.filter(key="bench-0").first()
    moved = contest.start + timedelta(days=1)
    async with in_transaction():
        await Contest.filter(id=contest.id).update(start=moved, end=moved + timedelta(seconds=contest.duration))
        await ContestChange.create(contest=contest, kind=ChangeKind.RESCHEDULED, old_start=contest.start,
                                   new_start=moved, noticed_at=datetime.now(UTC))


def raise_open_files_limit() -> int:
    """Thousands of sockets need thousands of descriptors: lift the soft limit to the hard one (inherited)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- part 1: requests/s against a bare handler ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    rate: float
    p99_ms: float
    errors: str

    @classmethod
    def of(cls, report: str) -> Load:
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
        value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", report, re.MULTILINE).groups()
        p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        errors = ", ".join(line.strip() for line in report.splitlines()
                           if line.strip().startswith(("Socket errors", "Non-2xx")))
        return cls(rate, p99, errors)


def wrk(url: str, threads: int, connections: int, seconds: int) -> Load:
    report = subprocess.run([WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                            capture_output=True, text=True, check=True).stdout
    return Load.of(report)


def describe(label: str, load: Load) -> None:
    print(f"{label:<22} {load.rate:9.1f} requests/s   p99 {load.p99_ms:7.2f} ms   {load.errors}")


async def serve_bare(port: int, body_file: Path) -> None:
    """The reference: the same bytes from a handler that does nothing else (no middleware, no parsing)."""
    body = body_file.read_bytes()

    async def bare(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", bare)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()  # until SIGTERM


async def same_bytes(session: aiohttp.ClientSession, *urls: str) -> bytes:
    bodies = []
    for url in urls:
        async with session.get(url) as response:
            assert response.status == 200, (url, response.status)
            bodies.append(await response.read())
    assert all(body == bodies[0] for body in bodies), "the bare handler must serve exactly the API's bytes"
    return bodies[0]


async def requests_figures(session: aiohttp.ClientSession, api: str, arguments: argparse.Namespace) -> None:
    async with session.get(api + API_PATH) as response:
        body = await response.read()
    with tempfile.NamedTemporaryFile(suffix=".json") as body_file:
        body_file.write(body)
        body_file.flush()
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-m", "bench.web", "bare", str(bare_port), body_file.name],
                                cwd=REPO)
        try:
            bare_url = f"http://127.0.0.1:{bare_port}"
            await wait_for_web(session, bare_url)
            size = len(await same_bytes(session, api + API_PATH, bare_url + API_PATH))
            count = len(json.loads(body)["contests"])
            print(f"GET {API_PATH}: {count} contests, {size:,} bytes; wrk -t{arguments.threads} "
                  f"-c{arguments.connections} -d{arguments.duration}s --latency against each")
            for url in (bare_url, api):  # warm both up (connections, caches) before measuring
                await asyncio.to_thread(wrk, url + API_PATH, arguments.threads, arguments.connections, 2)
            rounds = [await load_round(bare_url, api, arguments) for _ in range(arguments.rounds)]
        finally:
            bare.terminate()
            bare.wait(10)
    reference, ours = (median_load([loads[i] for loads in rounds]) for i in (0, 1))
    if len(rounds) > 1:
        print(f"median of {len(rounds)} rounds:")
        describe("  bare aiohttp handler", reference)
        describe("  contestbell API", ours)
    print(f"API: {ours.rate / reference.rate:.0%} of the bare handler's rate (aim >= 50%), "
          f"p99 {ours.p99_ms:.1f} ms (aim <= 50 ms)")


async def load_round(bare_url: str, api: str, arguments: argparse.Namespace) -> tuple[Load, Load]:
    """The bare handler, then the API, back to back: rounds alternate, so a busier moment of the machine does
    not fall on one of them only."""
    loads = tuple([await asyncio.to_thread(wrk, url + API_PATH, arguments.threads, arguments.connections,
                                           arguments.duration) for url in (bare_url, api)])
    describe("bare aiohttp handler", loads[0])
    describe("contestbell API", loads[1])
    return loads


def median_load(loads: list[Load]) -> Load:
    return Load(statistics.median(load.rate for load in loads), statistics.median(load.p99_ms for load in loads),
                "")


# -- part 2: one change to 5,000 WebSockets ------------------------------------------------------------------


async def listen(url: str, count: int) -> None:
    """A client process: `count` sockets; prints "ready" once all are greeted, then when each got the change
    (time.monotonic(), the same clock in every process of this machine; null when it never came)."""
    raise_open_files_limit()
    gate = asyncio.Semaphore(200)  # connect in waves: a burst of thousands overflows the listen backlog
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def greeted() -> aiohttp.ClientWebSocketResponse:
            async with gate:
                socket = await session.ws_connect(url, autoclose=False, max_msg_size=0)
                assert (await socket.receive_json(timeout=60))["type"] == "hello"
                return socket

        sockets = await asyncio.gather(*(greeted() for _ in range(count)))
        print("ready", flush=True)
        arrived = await asyncio.gather(*(change_arrival(socket) for socket in sockets))
        print(json.dumps(arrived), flush=True)
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


async def change_arrival(socket: aiohttp.ClientWebSocketResponse) -> float | None:
    try:
        message = await socket.receive(timeout=BROADCAST_TIMEOUT)
    except TimeoutError:
        return None
    arrived = time.monotonic()
    return arrived if message.type is aiohttp.WSMsgType.TEXT and json.loads(message.data)["type"] == "change" \
        else None


async def broadcast_figures(api: str, sockets: int, processes: int) -> None:
    shares = [sockets // processes + (i < sockets % processes) for i in range(processes)]
    url = api.replace("http://", "ws://") + "/ws"
    clients = [await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.web", "sockets", url, str(share),
                                                    cwd=REPO, stdout=asyncio.subprocess.PIPE)
               for share in shares]
    bus = RedisBus(REDIS_URL)
    try:
        started = time.monotonic()
        for client in clients:
            line = await asyncio.wait_for(client.stdout.readline(), 300)
            assert line == b"ready\n", f"a client process failed: {line!r}"
        print(f"{sockets} WebSockets on /ws from {processes} client processes, all greeted "
              f"(connecting took {time.monotonic() - started:.1f} s); one contest moved, the bus rung on Redis")
        await asyncio.sleep(1)  # let the connection storm settle
        published = time.monotonic()
        await reschedule_one()
        await bus.wake()
        arrivals = [moment for client in clients
                    for moment in json.loads(await asyncio.wait_for(client.stdout.readline(), 120))]
    finally:
        await bus.close()
        for client in clients:
            if client.returncode is None:
                client.terminate()
            await client.wait()
    delays = sorted((moment - published) * 1000 for moment in arrivals if moment is not None)
    if not delays:
        print("no client received the change")
        return
    print(f"received by {len(delays)}/{sockets}: p50 {delays[len(delays) // 2]:.0f} ms, "
          f"p99 {delays[int(len(delays) * 0.99) - 1]:.0f} ms, max {delays[-1]:.0f} ms (aim: all within 1000 ms)")


# -- the run -------------------------------------------------------------------------------------------------


async def main(arguments: argparse.Namespace) -> None:
    limit = raise_open_files_limit()
    async with scratch_url() as url:
        await seed(url, arguments.contests)
        port = free_port()
        env = contestbell_env(database_url=url, redis_url=REDIS_URL, http_port=str(port),
                              public_url="https://bench.invalid", secret_key=secrets.token_urlsafe(48),
                              log_level="WARNING")
        process = subprocess.Popen([sys.executable, "-m", "contestbell.cli", "web"], env=env, cwd=REPO)
        api = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                await wait_for_web(session, api)
                print(f"{arguments.contests} upcoming contests in PostgreSQL; `contestbell web` in its own process "
                      f"with the Redis event bus; open files limit {limit}")
                await requests_figures(session, api, arguments)
            if arguments.sockets:
                async with database(url, apply_migrations=False):
                    await broadcast_figures(api, arguments.sockets, arguments.client_processes)
        finally:
            process.terminate()
            process.wait(30)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contests", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per server")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk runs per server (median shown)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--sockets", type=int, default=5000, help="WebSocket clients (0: skip part 2)")
    parser.add_argument("--client-processes", type=int, default=2)
    roles = parser.add_subparsers(dest="role", help="(internal: the helper processes this benchmark starts)")
    bare = roles.add_parser("bare")
    bare.add_argument("port", type=int)
    bare.add_argument("body_file", type=Path)
    sockets = roles.add_parser("sockets")
    sockets.add_argument("url")
    sockets.add_argument("count", type=int)
    return parser.parse_args()


if __name__ == "__main__":
    given = arguments()
    if given.role == "bare":
        uvloop.run(serve_bare(given.port, given.body_file))
    elif given.role == "sockets":
        uvloop.run(listen(given.url, given.count))
    elif shutil.which(WRK) is None:
        sys.exit(f"{WRK} is missing: apt-get install wrk")
    else:
        uvloop.run(main(given))
