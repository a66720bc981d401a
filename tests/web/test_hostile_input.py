"""NUL bytes and lone surrogates in any parameter, path segment, cursor or form field are a 400 (404 for paths),
never a 500 (issue 9, item 4). PostgreSQL refuses NUL in text and Python refuses to encode a lone surrogate, so
either would otherwise fail deep in a query."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from models.account import Account
from models.contest import Contest
from web.app import make_web_app


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    start = datetime.now(UTC) + timedelta(days=1)
    await Contest.create(site_id="codeforces", key="1", title="Round", url="https://codeforces.com/contest/1",
                         start=start, end=start + timedelta(hours=2), duration=7200)
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


def cursor_of(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).rstrip(b"=").decode()


BAD_QUERIES = [
    "/?q=%00",
    "/?q=div%00",
    "/?tz=%00",
    "/?view=%00",
    "/?date=2026-11-01%00",
    "/?site=%00",
    "/?lang=%00",
    "/?%00=1",
    "/?min_hours=1%00",
    "/?partial=1&q=%00",
    "/api/v1/contests?q=%00",
    "/api/v1/contests?site=%00",
    "/api/v1/contests?from=2026-11-01T00:00:00Z%00",
    "/api/v1/contests?cursor=" + cursor_of("2026-11-23T10:00:00+00:00", "\ud800", "1"),
    "/api/v1/contests?cursor=" + cursor_of("2026-11-23T10:00:00+00:00", "codeforces", "\udfff"),
    "/api/v1/contests?cursor=" + cursor_of("2026-11-23T10:00:00+00:00", "codeforces", "1\x00"),
    "/api/v1/sites?x=%00",
    "/calendar.ics?site=%00",
]


async def test_nul_and_lone_surrogates_in_the_query_are_a_400(client, caplog):
    for path in BAD_QUERIES:
        with caplog.at_level(logging.WARNING):
            response = await client.get(path)
        assert response.status == 400, (path, await response.text())
        assert "Content-Security-Policy" in response.headers
        if path.startswith("/api/"):
            error = (await response.json())["error"]
            assert error["parameter"] and error["message"], path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


BAD_PATHS = [
    ("GET", "/%00"),
    ("GET", "/email/verify/%00"),
    ("POST", "/email/verify/%00"),
    ("GET", "/email/unsubscribe/%00"),
    ("POST", "/email/unsubscribe/%00"),
    ("GET", "/calendar/%00.ics"),
    ("GET", "/calendar/abc%00def.ics"),
    ("GET", "/contest/%00.ics"),
    ("GET", "/api/v1/contests%00"),
    ("GET", "/static/%00"),
]


async def test_nul_in_a_path_is_a_404(client, caplog):
    for method, path in BAD_PATHS:
        with caplog.at_level(logging.WARNING):
            response = await client.request(method, path)
        assert response.status == 404, (method, path)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_nul_in_a_form_field_is_a_400(client):
    account = await Account.create()
    token = await account.calendar_feed_token()
    for body in ("List-Unsubscribe=One-Click%00", "x%00=1", "a=1&b=%00"):
        response = await client.post(f"/email/unsubscribe/{token}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status == 400


async def test_the_same_pages_answer_normal_input(client):
    for path in ("/?q=round", "/api/v1/contests?q=round", "/calendar.ics?site=codeforces"):
        assert (await client.get(path)).status == 200
