"""`/ws`: open pages hear every contest change within a second, in-process without Redis, and over Redis
pub/sub from an ingest in another process to every `contestbell web` process. The changes themselves come from
the database (the `contest_change` rows); the bus only says when to look."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from fetchers.contest import Contest as Fetched
from fetchers.events import LocalBus, RedisBus
from fetchers.ingest import ingest
from tests.captures import capture
from tests.processes import contestbell, contestbell_env, free_port, healthz_answers, running, wait_until
from web.app import make_web_app
from web.keys import BUS
from web.live import HUB

ROUND = Fetched("codeforces", "2040", "Codeforces Round 1000", "https://codeforces.com/contest/2040",
                datetime(2026, 11, 30, 14, 35, tzinfo=UTC), 7200)
MOVED = dataclasses.replace(ROUND, start=datetime(2026, 12, 1, 14, 35, tzinfo=UTC))
CHANGE = {"kind": "rescheduled", "site": "codeforces", "key": "2040", "title": "Codeforces Round 1000",
          "url": "https://codeforces.com/contest/2040", "start": "2026-12-01T14:35:00Z", "duration": 7200,
          "old_start": "2026-11-30T14:35:00Z", "old_title": "Codeforces Round 1000"}
NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def moved() -> None:
    """A real ingest that reschedules a contest: the change the pages should hear is CHANGE."""
    await ingest("codeforces", [ROUND], NOW)
    await ingest("codeforces", [MOVED], NOW)


def without_id(event: dict) -> dict:
    return {name: value for name, value in event.items() if name != "id"}
SERIES = "codeforces/upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-{}.json"


async def next_json(socket: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> dict:
    message = await socket.receive(timeout=timeout)
    assert message.type is WSMsgType.TEXT, message
    return json.loads(message.data)


async def greeted(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    socket = await session.ws_connect(url)
    assert await next_json(socket) == {"type": "hello"}
    return socket


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(bus=LocalBus()), host="127.0.0.1")) as client:
        yield client


async def test_every_open_page_hears_a_change_within_a_second(client):
    sockets = [await greeted(client.session, str(client.make_url("/ws"))) for _ in range(3)]
    assert len(client.app[HUB].sockets) == 3
    await ingest("codeforces", [ROUND], NOW)
    await client.app[BUS].wake()
    heard = [await next_json(socket, timeout=1) for socket in sockets]  # the first change: the new contest
    published = time.monotonic()
    await ingest("codeforces", [MOVED], NOW)
    await client.app[BUS].wake()
    for socket in sockets:
        assert without_id(await next_json(socket, timeout=1)) == {"type": "change", **CHANGE}
    assert time.monotonic() - published < 1
    assert {event["kind"] for event in heard} == {"new"}


async def test_a_closed_page_is_forgotten_and_the_others_still_hear(client):
    gone, staying = [await greeted(client.session, str(client.make_url("/ws"))) for _ in range(2)]
    await gone.close()

    async def one_left() -> bool:
        return len(client.app[HUB].sockets) == 1

    await wait_until(one_left, 5, "the closed socket to leave")
    await moved()
    await client.app[BUS].wake()
    assert [(await next_json(staying))["kind"] for _ in range(2)] == ["new", "rescheduled"]


async def test_stopping_the_server_closes_the_pages_sockets():
    server = TestServer(make_web_app(), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        socket = await greeted(session, str(server.make_url("/ws")))
        closing = asyncio.create_task(server.close())  # it waits for the page to answer the close
        message = await socket.receive(timeout=5)
        assert (message.type, message.data) == (WSMsgType.CLOSE, aiohttp.WSCloseCode.GOING_AWAY)
        await closing


async def test_pages_stay_up_while_the_bus_is_down(db):
    """A Redis that does not answer: /ws still greets, and the calendar still serves."""
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0")
    try:
        async with TestClient(TestServer(make_web_app(bus=bus), host="127.0.0.1")) as client:
            socket = await greeted(client.session, str(client.make_url("/ws")))
            assert not socket.closed
            health = await client.get("/healthz")
            assert health.status == 200 and (await health.json())["redis"] == "degraded"
    finally:
        await bus.close()


async def web_process_socket(session: aiohttp.ClientSession, port: int) -> aiohttp.ClientWebSocketResponse:
    await wait_until(lambda: healthz_answers(port), 60, f"contestbell web on port {port}")
    return await greeted(session, f"ws://127.0.0.1:{port}/ws")


@pytest.mark.split
@pytest.mark.db
async def test_an_ingest_in_another_process_reaches_pages_on_every_web_process(db, redis_url, tmp_path: Path):
    """Two `contestbell web` processes and `contestbell ingest` in a third, all on one Redis: both pages hear
    the new contests, and a change published on Redis reaches both within a second."""
    ports = [free_port(), free_port()]
    envs = [contestbell_env(database_url=db, redis_url=redis_url, http_port=str(port), sites="none")
            for port in ports]
    with running("web", env=envs[0], log=tmp_path / "web0.log"), \
            running("web", env=envs[1], log=tmp_path / "web1.log"):
        async with aiohttp.ClientSession() as session:
            sockets = [await web_process_socket(session, port) for port in ports]
            result = await asyncio.to_thread(contestbell, "ingest", "codeforces", str(capture(SERIES.format("16"))),
                                             "--now", "2018-10-16T16:21:00Z", env=envs[0])
            assert result.returncode == 0, result.stderr
            for socket in sockets:
                heard = [await next_json(socket) for _ in range(14)]
                assert {change["kind"] for change in heard} == {"new"}
                assert len({change["key"] for change in heard}) == 14

            bus = RedisBus(redis_url)
            try:
                await ingest("codeforces", [ROUND], NOW)
                published = time.monotonic()
                await bus.wake()
                for socket in sockets:
                    assert (await next_json(socket, timeout=1))["key"] == "2040"
                assert time.monotonic() - published < 1
            finally:
                await bus.close()
