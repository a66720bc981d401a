"""Change events are never lost (issue 9, item 6): the `contest_change` rows written in the ingest transaction
are the stream, read by id; Redis only wakes the followers. A Redis that accepts connections and never answers
costs an ingest nothing and a follower at most one poll; the scheduler's and the web's followers retry and say
so once; `/healthz` reports Redis as degraded."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from fetchers.changes import ChangeFollower, changes_after, last_change_id
from fetchers.contest import Contest as Fetched
from fetchers.events import LocalBus, RedisBus
from fetchers.ingest import ingest
from models.account import Account, Delivery, TelegramChat
from models.contest import Contest
from tests.bot.run import run_with_bot
from tests.processes import contestbell, contestbell_env, wait_until
from tests.proxy import black_hole
from web.app import make_web_app

NOW = datetime.now(UTC).replace(microsecond=0)
CHAT = 5151


def codeforces_answer(contests: list[tuple[int, str, datetime]]) -> str:
    """A Codeforces API answer (the shape of the captures) listing these contests: what no capture shows is a
    contest that moves while it is still ahead of today."""
    return json.dumps({"status": "OK", "result": [
        {"id": key, "name": name, "type": "CF", "phase": "BEFORE", "frozen": False, "durationSeconds": 7200,
         "startTimeSeconds": int(start.timestamp()), "relativeTimeSeconds": -1} for key, name, start in contests]})


def saved(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


async def test_ingest_with_a_redis_that_never_answers_exits_0_and_the_changes_are_in_the_stream(db, tmp_path):
    before = await last_change_id()
    answer = saved(tmp_path, "cf.json", codeforces_answer([(990001, "Round A", NOW + timedelta(days=2)),
                                                            (990002, "Round B", NOW + timedelta(days=3))]))
    async with black_hole() as port:
        env = contestbell_env(database_url=db, redis_url=f"redis://127.0.0.1:{port}/0")
        started = time.monotonic()
        result = await asyncio.to_thread(contestbell, "ingest", "codeforces", answer, env=env)
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["new"] == ["990001", "990002"]
    assert took < 15, took
    assert "could not ring the followers over Redis" in result.stderr and "Traceback" not in result.stderr
    events = await changes_after(before)
    assert [(e["kind"], e["key"]) for e in events] == [("new", "990001"), ("new", "990002")]


async def test_a_follower_that_missed_the_wake_ups_catches_up_from_its_last_id(db):
    delivered: list[dict] = []

    async def deliver(events: list[dict]) -> None:
        delivered.extend(events)

    start = NOW + timedelta(days=2)
    await ingest("codeforces", [Fetched("codeforces", "1", "One", "https://codeforces.com/contest/1", start, 7200)],
                 NOW)
    follower = ChangeFollower(LocalBus(), deliver, "test", poll_every=0.2)  # from the newest change on
    task = asyncio.create_task(follower.run())
    try:
        await wait_until(lambda: _truthy(follower.after_id is not None), 5, "the follower to start")
        moved = [Fetched("codeforces", "1", "One", "https://codeforces.com/contest/1", start + timedelta(hours=1),
                         7200), Fetched("codeforces", "2", "Two", "https://codeforces.com/contest/2", start, 7200)]
        await ingest("codeforces", moved, NOW)  # nobody rings the bus
        await wait_until(lambda: _truthy(len(delivered) >= 2), 5, "the follower to find the changes")
    finally:
        task.cancel()
    assert [(e["kind"], e["key"]) for e in delivered] == [("rescheduled", "1"), ("new", "2")]
    assert delivered[0]["old_start"] != delivered[0]["start"]
    assert [e["id"] for e in delivered] == sorted({e["id"] for e in delivered})


async def _truthy(value: bool) -> bool:
    return value


async def test_a_broken_bus_is_said_once_and_the_follower_still_delivers(db, caplog):
    delivered: list[dict] = []

    async def deliver(events: list[dict]) -> None:
        delivered.extend(events)

    async with black_hole() as port:
        bus = RedisBus(f"redis://127.0.0.1:{port}/0")
        follower = ChangeFollower(bus, deliver, "test follower", poll_every=0.2)
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(follower.run())
            try:
                await wait_until(lambda: _truthy(follower.after_id is not None), 5, "the follower to start")
                start = NOW + timedelta(days=2)
                await ingest("codeforces", [Fetched("codeforces", "7", "Seven", "https://codeforces.com/contest/7",
                                                    start, 7200)], NOW)
                await bus.wake()  # lost in the black hole
                await wait_until(lambda: _truthy(len(delivered) == 1), 5, "the change to arrive by polling")
                await asyncio.sleep(3)  # several failed subscriptions
            finally:
                task.cancel()
                await bus.close()
    complaints = [r for r in caplog.records if "the event bus is unavailable" in r.getMessage()]
    assert len(complaints) == 1, caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text


async def test_healthz_says_redis_is_degraded(db, redis_url):
    async with black_hole() as port:
        for url, state in ((f"redis://127.0.0.1:{port}/0", "degraded"), (redis_url, "ok")):
            bus = RedisBus(url)
            try:
                async with TestClient(TestServer(make_web_app(bus=bus), host="127.0.0.1")) as client:
                    started = time.monotonic()
                    response = await client.get("/healthz")
                    body = await response.json()
                    assert response.status == 200 and body["database"] == "ok" and body["redis"] == state
                    assert time.monotonic() - started < 3
            finally:
                await bus.close()
    async with TestClient(TestServer(make_web_app(bus=LocalBus()), host="127.0.0.1")) as client:
        assert (await (await client.get("/healthz")).json())["redis"] == "not used"


async def test_a_move_ingested_while_redis_hangs_still_reaches_the_reminded_and_the_live_page(db, redis_url,
                                                                                              tmp_path):
    """The issue's case end to end: `contestbell run` (real Redis) reminded someone of a contest; another
    process ingests a move with a Redis that never answers; the person is told that it moved, and an open page
    hears it."""
    start = NOW + timedelta(days=2)
    first = saved(tmp_path, "before.json", codeforces_answer([(990100, "Moving Round", start)]))
    moved = saved(tmp_path, "after.json", codeforces_answer([(990100, "Moving Round", start + timedelta(hours=3))]))
    assert (await asyncio.to_thread(contestbell, "ingest", "codeforces", first,
                                    env=contestbell_env(database_url=db))).returncode == 0
    contest = await Contest.get(site_id="codeforces", key="990100")
    account = await Account.create(sites=["codeforces"], reminder_offsets=[3600])
    await TelegramChat.create(chat_id=CHAT, account=account, chat_type="private")
    await Delivery.create(account=account, contest=contest, channel="telegram", kind="reminder", offset_seconds=86400,
                          contest_start=start, due_at=start - timedelta(days=1), status="sent")
    async with run_with_bot(db, tmp_path / "run.log", redis_url=redis_url) as (fake, port), \
            aiohttp.ClientSession() as session, session.ws_connect(f"ws://127.0.0.1:{port}/ws") as socket:
        assert json.loads((await socket.receive(timeout=5)).data) == {"type": "hello"}
        async with black_hole() as hole:
            result = await asyncio.to_thread(contestbell, "ingest", "codeforces", moved, env=contestbell_env(
                database_url=db, redis_url=f"redis://127.0.0.1:{hole}/0"))
        assert result.returncode == 0 and json.loads(result.stdout)["rescheduled"] == ["990100"], result.stderr
        heard = json.loads((await socket.receive(timeout=10)).data)
        [notice] = await fake.wait_for("sendMessage", chat_id=CHAT, timeout=20)
    assert (heard["type"], heard["kind"], heard["key"]) == ("change", "rescheduled", "990100")
    assert "Moving Round" in notice.text and "moved" in notice.text
