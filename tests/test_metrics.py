"""Metrics and JSON log lines in one process (issue 13, items 4 and 5): requests are counted by route pattern and never
by path (paths carry tokens), the sites' gauges are read from the database at scrape time, and a JSON log record is
one line with its context. tests/test_observability.py scrapes real processes."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from contestbell.logs import JsonLines
from models.contest import Contest, Site
from web.app import make_web_app

TOKEN = "s3cr3t-token-that-must-not-leak"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition: (name, labels) -> value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


async def scrape(client: TestClient) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return await response.text()


async def test_requests_are_counted_by_route_pattern_never_by_path(db):
    async with TestClient(TestServer(make_web_app())) as client:
        before = samples(await scrape(client))
        for path in (f"/link/{TOKEN}", f"/no/such/{TOKEN}", "/healthz"):
            await client.get(path)
        text = await scrape(client)
    assert TOKEN not in text
    found = samples(text)

    def counted(route: str, status: str) -> float:
        labels = {"method": "GET", "route": route, "status": status}
        return (value(found, "contestbell_http_requests_total", **labels) or 0) - (
            value(before, "contestbell_http_requests_total", **labels) or 0)

    assert counted("/link/{token}", "200") == 1
    assert counted("unmatched", "404") == 1
    assert counted("/healthz", "200") == 1
    assert value(found, "contestbell_http_request_duration_seconds_count", method="GET", route="/healthz")


async def test_open_websockets_are_counted(db):
    async with TestClient(TestServer(make_web_app())) as client:
        before = value(samples(await scrape(client)), "contestbell_websocket_clients")
        socket = await client.ws_connect("/ws")
        assert (await socket.receive_json())["type"] == "hello"
        assert value(samples(await scrape(client)), "contestbell_websocket_clients") == before + 1
        await socket.close()
        for _ in range(50):
            if value(samples(await scrape(client)), "contestbell_websocket_clients") == before:
                break
            await asyncio.sleep(0.05)
        assert value(samples(await scrape(client)), "contestbell_websocket_clients") == before
        found = samples(await scrape(client))
    assert value(found, "contestbell_http_requests_total", method="GET", route="/ws", status="101") >= 1


async def test_site_gauges_are_read_from_the_database_when_scraped(db):
    now = datetime.now(UTC)
    await Site.filter(slug="leetcode").update(last_success=now - timedelta(minutes=5), consecutive_failures=0)
    await Site.filter(slug="atcoder").update(last_success=None, consecutive_failures=4)
    for key, end in (("past", now - timedelta(days=2)), ("soon", now + timedelta(days=1))):
        await Contest.create(site_id="leetcode", key=key, title=key, url="https://leetcode.com/contest", start=end
                             - timedelta(hours=2), end=end, duration=7200)
    async with TestClient(TestServer(make_web_app())) as client:
        found = samples(await scrape(client))
    assert 300 <= value(found, "contestbell_site_staleness_seconds", site="leetcode") < 330
    assert value(found, "contestbell_site_last_success_timestamp_seconds", site="leetcode") == \
        (now - timedelta(minutes=5)).timestamp()
    assert math.isinf(value(found, "contestbell_site_staleness_seconds", site="atcoder"))
    assert value(found, "contestbell_site_last_success_timestamp_seconds", site="atcoder") is None
    assert value(found, "contestbell_site_consecutive_failures", site="atcoder") == 4
    assert value(found, "contestbell_site_fetch_interval_seconds", site="leetcode") == \
        (await Site.get(slug="leetcode")).every_seconds
    assert value(found, "contestbell_contests", site="leetcode") == 2
    assert value(found, "contestbell_upcoming_contests", site="leetcode") == 1
    assert value(found, "contestbell_contests", site="atcoder") == 0


def record(message: str, *args: object, level: int = logging.WARNING, **extra: object) -> logging.LogRecord:
    return logging.getLogger("fetchers.pipeline").makeRecord("fetchers.pipeline", level, __file__, 1, message, args,
                                                             None, extra=extra)


def test_a_json_record_is_one_line_with_its_context():
    line = JsonLines().format(record("fetch of %s failed:\n%s", "codeforces", "http 500 «ошибка»", site="codeforces"))
    assert "\n" not in line and line.isascii()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "fetchers.pipeline"
    assert entry["message"] == "fetch of codeforces failed:\nhttp 500 «ошибка»"
    assert entry["site"] == "codeforces"
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None and entry["time"].endswith("Z")


def test_a_json_record_keeps_its_traceback_in_the_same_object():
    try:
        raise KeyError("a bug")
    except KeyError:
        made = record("fetch of %s failed with a bug", "leetcode", level=logging.ERROR, site="leetcode",
                      account_id=7)
        made.exc_info = sys.exc_info()
    entry = json.loads(JsonLines().format(made))
    assert entry["exception"].startswith("Traceback") and "KeyError: 'a bug'" in entry["exception"]
    assert entry["site"] == "leetcode" and entry["account_id"] == 7
