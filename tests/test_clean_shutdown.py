"""Clean shutdown (issue 13, item 7), on real processes: SIGTERM on `contestbell web` lets the request in flight
finish with 200 and closes the live pages' WebSockets with 1001 (Going Away); SIGTERM on `contestbell worker`
finishes the fetch in progress and records it. Both exit 0 and log nothing at WARNING or above. (The scheduler's
side, the handover to a stand-by, is tests/scheduler/test_handover.py.)"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestServer

from contestbell.telegram import WEBHOOK_PATH
from fetchers.tasks import kick_fetch, make_broker
from models.contest import Site
from tests.bot.updates import private_message
from tests.conftest import TEST_DB
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import contestbell_env, free_port, healthz_answers, running, wait_until
from tests.replay import Replay

LOUD = re.compile(r" (WARNING|ERROR|CRITICAL) |Traceback")


def loud_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if LOUD.search(line)]


async def waiting_on_a_lock(admin: asyncpg.Connection) -> bool:
    """Is a query of another connection waiting for the table lock that the test holds?"""
    return bool(await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
        "AND datname = current_database()"))


@pytest.mark.split
@pytest.mark.skipif(TEST_DB != "postgres", reason="holds a PostgreSQL table lock to keep a request in flight")
async def test_sigterm_on_web_finishes_the_request_in_flight_and_closes_sockets_going_away(db, redis_url, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    env = contestbell_env(database_url=db, redis_url=redis_url, http_port=str(port), sites="none")
    locker = await asyncpg.connect(db)
    try:
        with running("web", env=env, log=log) as web:
            await wait_until(lambda: healthz_answers(port), 60, "contestbell web to answer")
            async with aiohttp.ClientSession() as session:
                socket = await session.ws_connect(f"ws://127.0.0.1:{port}/ws")
                assert (await socket.receive_json(timeout=5))["type"] == "hello"
                # the request in flight: its query waits for the contest table, which the test holds locked
                locking = locker.transaction()
                await locking.start()
                await locker.execute("LOCK TABLE contest IN ACCESS EXCLUSIVE MODE")
                request = asyncio.create_task(session.get(f"http://127.0.0.1:{port}/api/v1/contests"))
                await wait_until(lambda: waiting_on_a_lock(locker), 20, "the API request to wait for the table")

                web.send_signal(signal.SIGTERM)
                closing = await socket.receive(timeout=10)
                assert closing.type is WSMsgType.CLOSE and closing.data == WSCloseCode.GOING_AWAY, closing
                assert socket.close_code == WSCloseCode.GOING_AWAY
                await asyncio.sleep(0.5)  # the request is still held: the process must wait for it
                assert web.poll() is None and not request.done()

                released = time.monotonic()
                await locking.rollback()
                response = await asyncio.wait_for(request, 10)
                assert response.status == 200
                assert "contests" in await response.json()
                response.release()
            assert await asyncio.to_thread(web.wait, 20) == 0
            print(f"\nweb exited {time.monotonic() - released:.2f} s after its last request could finish")
    finally:
        await locker.close()
    assert loud_lines(log) == [], log.read_text()


@pytest.mark.split
async def test_sigterm_on_worker_finishes_the_fetch_in_progress(db, redis_url, tmp_path):
    route = "leetcode.com/graphql"
    replay = Replay(slow_seconds=2)
    replay.break_route(route, "slow")  # answers, after 2 s
    log = tmp_path / "worker.log"
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, redis_url=redis_url, fetch_via=str(mirror.make_url("")),
                              sites="leetcode", keep_past_days="36500", fetch_timeout="10")
        with running("worker", env=env, log=log) as worker:
            broker = make_broker(redis_url)
            await broker.startup()
            try:
                await kick_fetch(broker, "leetcode")
            finally:
                await broker.shutdown()

            async def asked() -> bool:
                return replay.hits[route] > 0

            await wait_until(asked, 30, "the worker to ask the slow site")
            asked_at = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(worker.wait, 20) == 0
            exited_after = time.monotonic() - asked_at

    site = await Site.get(slug="leetcode")
    print(f"\nworker exited {exited_after:.2f} s after the fetch began (the site answers after 2 s)")
    assert exited_after >= 2
    assert site.last_success is not None and site.consecutive_failures == 0
    assert "fetched leetcode" in log.read_text()
    assert loud_lines(log) == [], log.read_text()


async def test_sigterm_on_contestbell_run_finishes_the_fetch_in_progress(db, tmp_path):
    """The same for everything in one process (in-process queue, no Redis)."""
    route = "leetcode.com/graphql"
    replay = Replay(slow_seconds=2)
    replay.break_route(route, "slow")
    log = tmp_path / "run.log"
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, http_port=str(free_port()), fetch_via=str(mirror.make_url("")),
                              sites="leetcode", keep_past_days="36500", fetch_timeout="10", data_dir=str(tmp_path))
        with running("run", env=env, log=log) as run:
            async def asked() -> bool:
                return replay.hits[route] > 0

            await wait_until(asked, 30, "the in-process worker to ask the slow site")
            run.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(run.wait, 20) == 0

    site = await Site.get(slug="leetcode")
    assert site.last_success is not None and site.consecutive_failures == 0
    assert loud_lines(log) == [], log.read_text()


async def test_sigterm_on_web_finishes_the_telegram_update_in_hand(db, tmp_path):
    """The webhook answers Telegram at once and handles the update in the background: a stop must not cut off the
    reply it is sending (Telegram will not send the update again)."""
    fake = FakeTelegram()
    fake.send_delay = 2  # the reply is on the wire for 2 s
    port = free_port()
    log = tmp_path / "web.log"
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = contestbell_env(database_url=db, http_port=str(port), sites="none", telegram_token=TOKEN,
                              telegram_api_base=str(api.make_url("")).rstrip("/"),
                              public_url="https://bell.example.org", telegram_webhook_secret="s3cret",
                              secret_key="k3y-for-the-shutdown-test-4b1f0c9e8d7a6b5c", data_dir=str(tmp_path))
        with running("web", env=env, log=log) as web:
            await wait_until(lambda: healthz_answers(port), 60, "contestbell web to answer")
            await fake.wait_for("setWebhook", timeout=30)
            async with aiohttp.ClientSession() as session, session.post(
                    f"http://127.0.0.1:{port}{WEBHOOK_PATH}", data=json.dumps(private_message("/start")),
                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret", "Content-Type": "application/json"}
            ) as response:
                assert response.status == 200
            [reply] = await fake.wait_for(count=1, timeout=20)  # asked; the answer takes 2 s
            web.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(web.wait, 20) == 0
            assert time.monotonic() - reply.at >= 2 and reply.result is not None
    assert loud_lines(log) == [], log.read_text()
