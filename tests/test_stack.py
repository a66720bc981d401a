"""`./dev stack` started as an operator would (issue 13, items 1 and 3): the docker-compose.yml topology as local
processes (migrate, 2 x web, 2 x worker, 2 x scheduler) behind Debian's nginx with the nginx/ config, the contest
sites replayed from the captures, the Telegram Bot API faked. Everything is asked through nginx.

One stack serves the whole module (starting it is most of the time); the tests run in file order and the last one
stops it with SIGTERM. Select them with `pytest -m stack`. Without nginx, PostgreSQL or Redis they are skipped,
except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis
from aiohttp import web

from models.account import Account, Delivery, TelegramChat
from models.contest import Contest, Site
from models.db import database
from notify.telegram import CONCURRENCY
from scheduler.leader import LEASE, LOCK_KEY
from tests.bot.updates import USER_ID, private_message
from tests.captures import capture
from tests.conftest import PG_ADMIN_URL
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import REPO, contestbell_env, free_port

pytestmark = pytest.mark.stack

STACK_REDIS = "redis://127.0.0.1:6379/9"
WEBHOOK_SECRET = "stack-test-webhook-secret"
STARTUP = 150.0  # seconds; it takes about 20-30 on two busy cores


def unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return result


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    log: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def state(self) -> dict[str, Any]:
        return json.loads((self.directory / "processes.json").read_text())

    def processes(self, service: str) -> list[dict[str, Any]]:
        return [p for p in self.state()["processes"] if p["service"] == service]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def access_log(self) -> list[str]:
        path = self.directory / "nginx" / "logs" / "access.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[tuple[FakeTelegram, str]]:
    """The fake Bot API on its own event loop in a thread, for the whole module."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve() -> tuple[FakeTelegram, web.AppRunner, int]:
        fake = FakeTelegram()
        runner = web.AppRunner(fake.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return fake, runner, runner.addresses[0][1]

    fake, runner, port = asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def answers(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def services_reachable() -> None:
    if nginx_binary() is None:
        unavailable("nginx is not installed (scripts/deploy-tools installs Debian's nginx)")

    async def postgres() -> None:
        connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await connection.close()

    try:
        asyncio.run(postgres())
    except (OSError, asyncpg.PostgresError) as error:
        unavailable(f"PostgreSQL is not reachable: {error}")
    client = redis.Redis.from_url(STACK_REDIS, socket_connect_timeout=3)
    try:
        client.ping()
    except (OSError, redis.RedisError) as error:
        unavailable(f"Redis is not reachable: {error}")
    finally:
        client.close()


def drop_database(name: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_telegram: tuple[FakeTelegram, str]
          ) -> Iterator[RunningStack]:
    services_reachable()
    capture("codeforces/contest_list_trimmed_2026-10-06.json")  # skips (fails under CI) without the captures
    directory = tmp_path_factory.mktemp("stack")
    replay_port, port = free_port(), free_port()
    database = f"cbtest_stack_{secrets.token_hex(6)}"
    replay = subprocess.Popen([sys.executable, "-m", "tests.replay", "--port", str(replay_port)], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = contestbell_env(
        stack_dir=str(directory), stack_port=str(port), stack_db=database, stack_redis=STACK_REDIS,
        stack_pg=PG_ADMIN_URL, sites="codeforces", fetch_via=f"http://127.0.0.1:{replay_port}",
        keep_past_days="36500", secret_key=secrets.token_urlsafe(32), telegram_token=TOKEN,
        telegram_api_base=fake_telegram[1], telegram_webhook_secret=WEBHOOK_SECRET)
    log = directory / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(REPO / "dev"), "stack"], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    running = RunningStack(process, port, directory, log, env)
    try:
        wait_for(lambda: answers(replay_port), 30, "the replay server")
        started = time.monotonic()
        wait_for(lambda: "\nready " in running.output() or process.poll() is not None, STARTUP,
                 "./dev stack to be ready", interval=0.2)
        assert process.poll() is None, f"./dev stack exited with {process.returncode}:\n{running.tail()}"
        print(f"./dev stack was ready after {time.monotonic() - started:.1f} s")
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        replay.terminate()
        replay.wait(10)
        drop_database(database)


# --- the stack's own rules, without starting it --------------------------------------------------------------------

def load_stack_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("stack_script", REPO / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_interpolation_follows_compose():
    stack_script = load_stack_module()
    env = {"SET": "value", "EMPTY": ""}
    assert stack_script.interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}", env) == "value d d  d"
    assert stack_script.interpolate("$SET/${SET}/$$SET/${UNSET}", env) == "value/value/$SET/"
    assert stack_script.interpolate("${SET:?needed}", env) == "value"
    with pytest.raises(stack_script.StackError, match=r"EMPTY: set it in \.env"):
        stack_script.interpolate("${EMPTY:?set it in .env}", env)
    assert stack_script.interpolate("${UNSET:?x}@host", env, strict=False) == "@host"
    assert stack_script.duration("1m30s", 0) == 90 and stack_script.duration(None, 10) == 10


def test_a_killed_stacks_processes_are_stopped_at_the_next_start(tmp_path):
    """A stack killed with SIGKILL cannot stop its processes; the next start in the same folder finds them by the
    marker in their environment and stops them (here: a stand-in, and PostgreSQL is unreachable so that the stack
    stops right after)."""
    directory = tmp_path / "stack"
    directory.mkdir()
    leftover = subprocess.Popen(["sleep", "300"], start_new_session=True,
                                env={**os.environ, "CONTESTBELL_STACK": str(directory.resolve())})
    stranger = subprocess.Popen(["sleep", "300"], start_new_session=True)
    dead_stack = subprocess.Popen(["true"])
    dead_stack.wait()
    (directory / "processes.json").write_text(json.dumps({"stack_pid": dead_stack.pid, "processes": [
        {"name": "web-1", "pid": leftover.pid, "pgid": leftover.pid},
        {"name": "web-2", "pid": stranger.pid, "pgid": stranger.pid}]}))
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  postgres:\n    image: postgres:15\n")
    try:
        result = subprocess.run([sys.executable, str(REPO / "scripts" / "stack.py"), "-f", str(compose)],
                                env={**contestbell_env(), "CONTESTBELL_STACK_DIR": str(directory),
                                     "CONTESTBELL_STACK_PG": "postgres://nobody@127.0.0.1:9/none"},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert re.search(rf"^leftover\s+web-1\s+pid {leftover.pid}: stopping it", result.stdout, re.M), result.stdout
        assert "PostgreSQL at postgres://nobody@127.0.0.1:9/none does not answer" in result.stdout
        assert leftover.wait(10) == -signal.SIGKILL
        assert stranger.poll() is None  # not started by a stack in this folder: left alone
    finally:
        for process in (leftover, stranger):
            process.kill()
            process.wait()


def test_a_process_that_exits_while_the_stack_starts_stops_the_start(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  broken:\n    build: .\n    restart: unless-stopped\n"
                       "    command: [python, -c, 'print(\"bad setting\"); raise SystemExit(3)']\n")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "stack.py"), "-f", str(compose)],
                            env={**contestbell_env(), "CONTESTBELL_STACK_DIR": str(tmp_path / "stack")},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert re.search(r"^broken-1\s+\| bad setting$", result.stdout, re.M), result.stdout
    assert "stack: broken-1 exited with status 3 while the stack was starting" in result.stdout
    assert re.search(r"^stopped\s+broken-1\s+pid \d+\s+status 3$", result.stdout, re.M)


# --- what an operator sees -----------------------------------------------------------------------------------------

def test_the_stack_prints_one_line_per_process_with_its_pid_and_port(stack: RunningStack):
    output = stack.output()
    for name in ("migrate", "web-1", "web-2", "worker-1", "worker-2", "scheduler-1", "scheduler-2", "nginx"):
        assert re.search(rf"^started\s+{name}\s+pid \d+", output, re.M), f"{name} not announced:\n{output}"
    assert re.search(r"^started\s+web-1\s+pid \d+\s+http://127\.0\.0\.1:\d+", output, re.M)
    assert re.search(rf"^started\s+nginx\s+pid \d+\s+http://127\.0\.0\.1:{stack.port}", output, re.M)
    assert re.search(r"^migrate\s+\| migrations applied", output, re.M)
    assert re.search(r"^stopped\s+migrate", output, re.M) is None  # one-shot: it exited by itself, with 0
    state = stack.state()
    assert {p["name"]: p["running"] for p in state["processes"] if p["service"] != "migrate"} == dict.fromkeys(
        ["nginx", "scheduler-1", "scheduler-2", "worker-1", "worker-2", "web-1", "web-2"], True)


async def test_pages_api_feeds_static_and_health_through_nginx(stack: RunningStack):
    async with aiohttp.ClientSession(stack.url) as http:
        async with http.get("/") as page:
            assert page.status == 200
            assert page.content_type == "text/html"
            html = await page.text()
        async with http.get("/healthz") as health:
            assert health.status == 200
            assert (await health.json())["ok"] is True
        async with http.get("/calendar.ics") as feed:
            assert feed.status == 200
            assert feed.content_type == "text/calendar"
            assert (await feed.text()).startswith("BEGIN:VCALENDAR")

        # the scheduler kicked codeforces, a worker fetched it from the replay server, a web process lists it
        async def codeforces_listed() -> list[dict[str, Any]]:
            async with http.get("/api/v1/contests", params={"site": "codeforces", "from": "2000-01-01T00:00:00Z"}
                                ) as api:
                assert api.status == 200
                return (await api.json())["contests"]

        deadline = time.monotonic() + 60
        while not (contests := await codeforces_listed()):
            assert time.monotonic() < deadline, f"codeforces never listed:\n{stack.tail()}"
            await asyncio.sleep(0.5)
        assert all(contest["site"] == "codeforces" for contest in contests)

        # versioned static files: a year in the browser, and kept by nginx (the second answer is nginx's own)
        versioned = re.search(r'/static/[a-z]+\.css\?v=[0-9a-f]+', html)[0]
        statuses = []
        for _ in range(2):
            async with http.get(versioned) as static:
                assert static.status == 200
                assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                statuses.append(static.headers["X-Cache-Status"])
        assert statuses[1] == "HIT", statuses
        async with http.get(versioned.split("?")[0]) as unversioned:
            assert unversioned.headers["Cache-Control"] == "no-cache"
            assert unversioned.headers["X-Cache-Status"] == "BYPASS"


async def test_metrics_are_not_reachable_through_nginx(stack: RunningStack):
    async with aiohttp.ClientSession(stack.url) as http:
        for path in ("/metrics", "/metrics/", "/metrics?name[]=x", "/metrics/anything"):
            async with http.get(path) as response:
                assert response.status == 404, path
                assert "contestbell" not in await response.text()
    assert all(" 404 " in line for line in stack.access_log() if "/metrics" in line)


async def test_websocket_through_nginx_hears_a_change_from_another_process(stack: RunningStack):
    """/ws upgrades through nginx; `contestbell ingest` in a process of its own stores contests, Redis wakes the
    web processes, and the change arrives on the socket."""
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{stack.port}/ws") as socket:
        hello = await socket.receive_json(timeout=10)
        assert hello == {"type": "hello"}
        env = {**stack.env, "CONTESTBELL_DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + "/"
               + stack.env["CONTESTBELL_STACK_DB"], "CONTESTBELL_REDIS_URL": STACK_REDIS}
        ingest = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "contestbell.cli", "ingest", "leetcode",
            str(capture("leetcode/graphql_upcomingContests_2026-10.json")), "--now", "2026-10-01T00:00:00Z",
            cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        printed, _ = await asyncio.wait_for(ingest.communicate(), 60)
        assert ingest.returncode == 0, printed.decode()
        message = await socket.receive_json(timeout=20)
        assert message["type"] == "change"
        assert message["site"] == "leetcode"


async def test_telegram_webhook_through_nginx(stack: RunningStack, fake_telegram: tuple[FakeTelegram, str]):
    fake, _ = fake_telegram
    assert len(fake.sent("setWebhook")) >= 2  # each web process registered it
    assert fake.sent("setWebhook")[0].params["url"] == f"{stack.url}/telegram/webhook"
    async with aiohttp.ClientSession(stack.url) as http:
        async with http.post("/telegram/webhook", json=private_message("/start")) as refused:
            assert refused.status == 401  # no secret: the web process refuses it
        async with http.post("/telegram/webhook", json=private_message("/start"),
                             headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as accepted:
            assert accepted.status == 200
    replies = wait_for(lambda: fake.sent("sendMessage", chat_id=USER_ID), 30, "the bot's answer to /start")
    assert replies


async def test_nginx_keeps_upstream_connections_alive(stack: RunningStack):
    """20 requests through nginx reuse a couple of connections to the web processes: after each request, the
    connections nginx holds open to the web ports are read from /proc (sockets of nginx's process group in
    ESTABLISHED state towards a web port). With `Connection: close` upstream there would be none between requests."""
    web_ports = {p["port"] for p in stack.processes("web")}
    nginx_group = stack.processes("nginx")[0]["pgid"]
    seen: set[int] = set()
    between_requests = []
    async with aiohttp.ClientSession(stack.url) as http:
        for _ in range(20):
            async with http.get("/api/v1/contests") as response:
                assert response.status == 200
                await response.read()
            held = upstream_connections(nginx_group, web_ports)
            between_requests.append(len(held))
            seen |= held
    print(f"20 requests through nginx used {len(seen)} upstream connections ({len(web_ports)} web processes); "
          f"held open between requests: {between_requests}")
    assert all(between_requests), between_requests
    assert 1 <= len(seen) <= 2 * len(web_ports)


def upstream_connections(group: int, ports: set[int]) -> set[int]:
    """The local ports of the established TCP connections that processes of `group` hold towards `ports`."""
    inodes = set()
    for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit()):
        try:
            if os.getpgid(pid) != group:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    held = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) in ports and inode in inodes:
                held.add(int(local.rsplit(":", 1)[1], 16))
    return held


async def test_tokens_in_addresses_stay_out_of_the_access_log(stack: RunningStack):
    token = secrets.token_urlsafe(24)
    paths = [f"/calendar/{token}.ics", f"/link/{token}", f"/email/unsubscribe/{token}",
             f"/email/verify/{token}", f"/email/digest-unsubscribe/{token}",
             f"/auth/github/callback?code={token}&state={token}"]
    before = len(stack.access_log())
    async with aiohttp.ClientSession(stack.url) as http:
        for path in paths:
            async with http.get(path, headers={"Referer": f"{stack.url}/link/{token}"}) as response:
                assert response.status < 500, path
                await response.read()
    def logged() -> list[str] | None:
        new = stack.access_log()[before:]
        return new if len(new) >= len(paths) else None

    lines = wait_for(logged, 10, "the access log lines")
    assert not [line for line in lines if token in line]
    logged_paths = [re.search(r'"GET (\S+) HTTP/1\.1"', line)[1] for line in lines]
    assert logged_paths == ["/calendar/[token].ics", "/link/[token]", "/email/unsubscribe/[token]",
                            "/email/verify/[token]", "/email/digest-unsubscribe/[token]",
                            "/auth/github/callback?[masked]"]
    assert all(f'"{stack.url}/link/[token]"' in line for line in lines)  # the Referer too


async def test_request_size_and_rate_limits(stack: RunningStack):
    async with aiohttp.ClientSession(stack.url) as http:
        async with http.post("/telegram/webhook", data=b"x" * 2_000_000,
                             headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as too_big:
            assert too_big.status == 413
        async with http.request("OPTIONS", "/api/v1/contests", data=b"x" * 20_000) as too_big_for_the_api:
            assert too_big_for_the_api.status == 413

        async def status() -> int:
            async with http.get("/api/v1/sites") as response:
                await response.read()
                return response.status

        # 20/s with a burst of 40: a volley of 50 at once is refused in part (more volleys on a slow machine)
        statuses: list[int] = []
        for _ in range(8):
            statuses += await asyncio.gather(*(status() for _ in range(50)))
            if 429 in statuses:
                break
    assert set(statuses) == {200, 429}, statuses
    assert statuses.count(200) >= 20  # the burst passes


async def test_a_web_process_killed_while_requests_flow_costs_no_request(stack: RunningStack):
    """SIGKILL to one web process while four clients keep asking through nginx: nginx passes what failed on to the
    other one (proxy_next_upstream), and the stack restarts the killed one (restart: unless-stopped)."""
    victim = stack.processes("web")[0]
    statuses: list[int] = []
    failures: list[str] = []
    stop = asyncio.Event()

    async def client(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            try:
                async with http.get("/") as response:
                    await response.read()
                    statuses.append(response.status)
            except aiohttp.ClientError as error:
                failures.append(repr(error))

    async with aiohttp.ClientSession(stack.url) as http:
        clients = [asyncio.create_task(client(http)) for _ in range(4)]
        while len(statuses) < 20:
            await asyncio.sleep(0.01)
        os.killpg(victim["pgid"], signal.SIGKILL)
        killed_at = len(statuses)
        while len(statuses) < killed_at + 60:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*clients)
    assert not failures
    assert set(statuses) == {200}, [s for s in statuses if s != 200]

    def restarted() -> bool:
        [again] = [p for p in stack.processes("web") if p["name"] == victim["name"]]
        return again["pid"] != victim["pid"] and again["running"]

    wait_for(restarted, 30, f"{victim['name']} to be restarted")
    assert re.search(rf"^exited\s+{victim['name']}\s+pid {victim['pid']}\s+status -9; restarting", stack.output(),
                     re.M)


# --- reminders: two schedulers (one leads), two workers, the fake Bot API ------------------------------------------

def stack_database_url(stack: RunningStack) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + stack.env["CONTESTBELL_STACK_DB"]


async def people_reminded_in(stack: RunningStack, chats: list[int], seconds: float) -> str:
    """Accounts for `chats` (a private Telegram chat each, a 10-minute reminder, only `atcoder`, which the stack
    does not fetch, and only titles with this call's word), and one atcoder contest whose 10-minute reminders fall
    due in `seconds`; written straight into the stack's database, as ingest would (the leading scheduler replans
    every few seconds). Returns its title."""
    word = secrets.token_hex(4)
    title = f"AtCoder Stack Contest {word}"
    start = datetime.now(UTC) + timedelta(seconds=600 + seconds)
    async with database(stack_database_url(stack), apply_migrations=False):
        assert await Site.exists(slug="atcoder")
        for chat in chats:
            account = await Account.create(sites=["atcoder"], include_keywords=[word], reminder_offsets=[600])
            await TelegramChat.create(chat_id=chat, account=account, chat_type="private")
        await Contest.create(site_id="atcoder", key=word, title=title, url="https://atcoder.jp",
                             start=start, end=start + timedelta(hours=2), duration=7200)
    return title


def reminders_of(fake: FakeTelegram, title: str, chats: list[int]) -> Counter[int]:
    """Messages naming `title` to `chats` (the webhook test's /start account, on default offsets, hears of these
    contests too: its own reminders, not counted here)."""
    return Counter(call.chat_id for call in fake.sent() if title in call.text and call.chat_id in chats)


async def delivery_statuses(stack: RunningStack, title: str, chats: list[int]) -> Counter[str]:
    async with database(stack_database_url(stack), apply_migrations=False):
        return Counter(await Delivery.filter(contest__title=title, account__telegram_chats__chat_id__in=chats)
                       .values_list("status", flat=True))


def leading_scheduler(stack: RunningStack) -> dict[str, Any]:
    """The scheduler that said last that it leads (only one leads at a time; a stand-by that takes over says so)."""
    said = re.findall(r"^(scheduler-\d+)\s+\|.*this scheduler leads", stack.output(), re.M)
    assert said, f"no scheduler leads:\n{stack.tail()}"
    [leader] = [p for p in stack.processes("scheduler") if p["name"] == said[-1]]
    return leader


async def test_a_reminder_is_delivered_once_through_the_stack(stack: RunningStack,
                                                              fake_telegram: tuple[FakeTelegram, str]):
    """Two schedulers (one leads) and two workers: the reminder reaches the fake Bot API exactly once."""
    fake, _ = fake_telegram
    chat = 70_001
    chats = [chat]
    title = await people_reminded_in(stack, chats, seconds=10)
    wait_for(lambda: reminders_of(fake, title, chats), 40, f"the reminder of {title}:\n{stack.tail()}")
    time.sleep(6)  # a second copy (the stand-by, a replan) would come within a replan or two
    assert reminders_of(fake, title, chats) == {chat: 1}
    assert await delivery_statuses(stack, title, chats) == {"sent": 1}


async def test_the_leading_scheduler_killed_loses_and_doubles_no_reminder(stack: RunningStack,
                                                                           fake_telegram: tuple[FakeTelegram, str]):
    """SIGKILL to the leading scheduler's process group 3 s before 20 reminders fall due. The stand-by takes the
    lock when the dead leader's lease runs out (scheduler/leader.py: LEASE) and sends them late; the stack restarts
    the killed one, which stands by. Nobody gets a reminder twice. The design allows a reminder claimed at the
    moment of the kill to be lost (claimed, maybe sent, then marked `interrupted` and never resent): so the bound
    asserted is "no duplicates, and lost <= interrupted <= what one sender has in flight" (the kill comes before
    anything falls due, so here nothing should be in flight at all)."""
    fake, _ = fake_telegram
    chats = list(range(71_000, 71_020))
    title = await people_reminded_in(stack, chats, seconds=12)
    leader = leading_scheduler(stack)
    locks = redis.Redis.from_url(STACK_REDIS)
    try:
        token = locks.get(LOCK_KEY)
        assert token is not None, "no scheduler holds the lock"
        time.sleep(9)  # the leader has planned the batch; it falls due in about 3 s
        assert not reminders_of(fake, title, chats)
        os.killpg(leader["pgid"], signal.SIGKILL)
        killed = time.monotonic()
        new_token = wait_for(lambda: (t := locks.get(LOCK_KEY)) not in (None, token) and t, 30,
                             "a stand-by to take the lock", interval=0.01)
        takeover = time.monotonic() - killed
    finally:
        locks.close()
    assert new_token != token
    wait_for(lambda: sum(reminders_of(fake, title, chats).values()) >= len(chats), 60,
             f"all {len(chats)} reminders after the takeover:\n{stack.tail()}")
    first_at = min(call.at for call in fake.sent() if title in call.text and call.chat_id in chats)
    time.sleep(6)  # a doubled reminder would come within a replan or two
    per_chat = reminders_of(fake, title, chats)
    statuses = await delivery_statuses(stack, title, chats)
    print(f"\nleader {leader['name']} killed; a stand-by owned the lock {takeover:.2f} s later (lease "
          f"{LEASE:.0f} s); the first reminder went out {first_at - killed:.2f} s after the kill; deliveries: "
          f"{dict(statuses)}")
    assert max(per_chat.values()) == 1, per_chat
    assert set(per_chat) <= set(chats)
    lost = len(chats) - len(per_chat)
    assert set(statuses) <= {"sent", "interrupted"} and sum(statuses.values()) == len(chats)
    assert lost <= statuses["interrupted"] <= CONCURRENCY
    assert statuses["sent"] <= len(per_chat)  # what is recorded as sent, arrived
    assert takeover < LEASE + 3

    def restarted() -> bool:
        [again] = [p for p in stack.processes("scheduler") if p["name"] == leader["name"]]
        return again["pid"] != leader["pid"] and again["running"]

    wait_for(restarted, 30, f"{leader['name']} to be restarted")


async def test_web_sees_the_real_client_behind_nginx(stack: RunningStack):
    """A client on 127.0.0.2 (not a proxy of ours) sends a forged X-Forwarded-For through nginx; nginx appends the
    address it saw and web, trusting nginx on loopback (CONTESTBELL_TRUSTED_PROXIES), logs the refused webhook
    request as coming from 127.0.0.2: neither nginx's 127.0.0.1 nor the forged address."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json",
               "X-Forwarded-For": "203.0.113.9"}
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(stack.url, connector=connector) as http, \
            http.post("/telegram/webhook", data=b"not an update", headers=headers) as refused:
        assert refused.status == 400
    line = wait_for(lambda: re.search(r"^web-\d\s+\|.*webhook: refused a request from (\S+):.*$", stack.output(),
                                      re.M), 10, "the refused request in a web log")
    assert line[1] == "127.0.0.2", line[0]


def test_sigterm_stops_the_whole_stack_and_leaves_no_process(stack: RunningStack):
    groups = {p["name"]: p["pgid"] for p in stack.state()["processes"]}
    assert len(groups) == 8
    stack.process.send_signal(signal.SIGTERM)
    stack.process.wait(90)
    assert stack.process.returncode == 0, stack.tail()
    left = [name for name, group in groups.items() if group_alive(group)]
    assert not left, f"left behind: {left}"
    # nothing started by the stack is anywhere: not even a process outside the recorded groups
    marker = f"CONTESTBELL_STACK={stack.directory.resolve()}".encode()  # in every process the stack starts
    strays = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    strays.append(Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    assert not strays
    assert re.search(r"^stopped\s+nginx", stack.output(), re.M)
    assert not (stack.directory / "processes.json").exists()


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
