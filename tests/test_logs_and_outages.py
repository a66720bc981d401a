"""Logs and public output (issue 9, item 7): nothing a client sends starts a log line of its own, tokens never
reach the log, /healthz and the API name the class of a site's error but never its text, a database outage is a
503 with Retry-After and a line every few seconds, and malformed HTTP is one WARNING without a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from fetchers.events import LocalBus
from fetchers.health import record_failure
from fetchers.http import SiteClient, new_session
from fetchers.pipeline import FetchContext, fetch_and_ingest
from fetchers.registry import get_site
from tests.conftest import TEST_DB
from tests.processes import contestbell_env, free_port, healthz_answers, running, wait_until
from tests.proxy import Proxy
from tests.replay import Replay
from web.app import make_web_app


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


async def broken_form(client: TestClient, path: str) -> int:
    """A form POST whose body says gzip and is not: the server must name the request in its log."""
    response = await client.post(path, data=b"not gzip at all", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip", "Connection": "close"})
    return response.status


async def test_a_path_cannot_forge_a_log_line(client, caplog):
    with caplog.at_level(logging.INFO):
        assert await broken_form(client, "/x%0A2026-11-26 10:00:00 ERROR forged: admin logged in%0D%0A") == 400
    lines = caplog.text.splitlines()
    assert any("%0A2026-11-26" in line for line in lines), caplog.text
    assert not any(line.startswith("2026-11-26") or "\r" in line for line in lines)


async def test_a_token_in_a_path_never_reaches_the_log(client, caplog):
    token = "Zk3v9QxLr2TnB8eYh5uJc7mPa4sDf6gHq1WxZ0pO"
    with caplog.at_level(logging.INFO):
        for path in (f"/email/unsubscribe/{token}", f"/email/verify/{token}"):
            assert await broken_form(client, path) == 400
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")  # the test server's own
    assert token not in ours  # (`contestbell web` keeps no access log: nginx does)
    assert "/email/unsubscribe/{token}" in ours and len(ours.splitlines()) == 2


async def test_health_and_the_api_show_an_error_class_never_its_text(db):
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, new_session(5) as session:
        context = FetchContext(SiteClient(session, fetch_via=str(mirror.make_url("")), retry_wait=0.01), LocalBus())
        for fault, expected in (("500", "http 500"), ("garbage", "parse error")):
            replay.break_route("leetcode.com/graphql", fault)
            with pytest.raises(Exception):  # noqa: B017 - a fetch of a broken site fails, whichever way
                await fetch_and_ingest(get_site("leetcode"), context)
            await assert_public_error("leetcode", expected, forbidden=str(mirror.make_url("")))
        via = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        context = FetchContext(SiteClient(session, fetch_via=via, retry_wait=0.01), LocalBus())
        with pytest.raises(Exception):  # noqa: B017
            await fetch_and_ingest(get_site("atcoder"), context)
        await assert_public_error("atcoder", "connection error", forbidden=urlsplit(via).netloc)
    await record_failure("codechef", datetime.now(UTC), 'OperationalError: relation "site" does not exist')
    await assert_public_error("codechef", "error", forbidden="relation")


async def assert_public_error(slug: str, expected: str, forbidden: str) -> None:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        health = await (await client.get("/healthz")).json()
        sites = await (await client.get("/api/v1/sites")).json()
        texts = [await (await client.get(path)).text() for path in ("/healthz", "/api/v1/sites")]
    [site] = [s for s in health["sites"] if s["site"] == slug]
    [listed] = [s for s in sites["sites"] if s["slug"] == slug]
    assert site["last_error"] == listed["health"]["last_error"] == expected
    assert all(forbidden not in text for text in texts)


@pytest.mark.skipif(TEST_DB != "postgres", reason="a database server to lose: PostgreSQL")
async def test_a_database_outage_is_a_503_with_retry_after_and_a_line_every_few_seconds(db, tmp_path):
    proxy = Proxy(5432)
    await proxy.start()
    through_proxy = db.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    port = free_port()
    log = tmp_path / "web.log"
    env = contestbell_env(database_url=through_proxy, http_port=str(port), data_dir=str(tmp_path))
    with running("web", env=env, log=log):
        await wait_until(lambda: healthz_answers(port), 60, "contestbell web to start")
        before = log.stat().st_size
        await proxy.cut()
        statuses, retry_after = [], set()
        async with aiohttp.ClientSession() as session:
            for number in range(60):
                for path in (f"/?q=round{number}", f"/api/v1/contests?q=round{number}", "/healthz",
                             "/calendar.ics", "/api/v1/sites"):
                    async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                        statuses.append(response.status)
                        retry_after.add(response.headers.get("Retry-After"))
                        assert "5432" not in await response.text()
                await asyncio.sleep(0.05)
            outage_log = log.read_text()[before:]
            await proxy.start()
            await wait_until(lambda: healthz_answers(port), 30, "contestbell web to recover")
            async with session.get(f"http://127.0.0.1:{port}/api/v1/contests?q=after") as response:
                assert response.status == 200
    assert set(statuses) == {503} and retry_after == {"5"}
    assert "Traceback" not in outage_log
    assert len(outage_log) < 4000, outage_log  # 300 requests in ~4 s: a few lines, not 4 KB each
    assert outage_log.count("the database is unavailable") <= 3


async def test_malformed_http_is_one_warning_without_a_traceback(db, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    with running("web", env=contestbell_env(database_url=db, http_port=str(port), data_dir=str(tmp_path)), log=log):
        await wait_until(lambda: healthz_answers(port), 60, "contestbell web to start")
        for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                        b"GET / HTTP/1.1\r\nHost: x\r\nBad\x01: y\r\n\r\n",
                        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(garbage)
            await writer.drain()
            await reader.read(1000)
            writer.close()
        await asyncio.sleep(0.5)
    text = log.read_text()
    assert "Traceback" not in text and " ERROR " not in text, text
    assert text.count("malformed HTTP") >= 2, text
