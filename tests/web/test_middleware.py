"""What every response gets: security headers (also on errors), and gzip for larger text bodies when asked."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.sentry import local_sentry
from web.app import make_web_app
from web.middleware import CSP, MIN_COMPRESSED

pytestmark = pytest.mark.db


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


@pytest.mark.parametrize("path", ["/healthz", "/no/such/page"])
async def test_security_headers_on_pages_and_errors(client, path):
    response = await client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self';" in CSP and "unsafe-inline" not in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_a_handlers_own_policy_is_kept(client):
    response = await client.get("/email/verify/unknown")
    assert response.status == 404
    assert "style-src 'unsafe-inline'" in response.headers["Content-Security-Policy"]


async def test_text_is_gzipped_only_for_clients_that_accept_it(client):
    plain = await client.get("/healthz", headers={"Accept-Encoding": "identity"}, auto_decompress=False)
    body = await plain.read()
    assert len(body) >= MIN_COMPRESSED and "Content-Encoding" not in plain.headers
    packed = await client.get("/healthz", headers={"Accept-Encoding": "gzip, br"}, auto_decompress=False)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    compressed = await packed.read()
    assert len(compressed) < len(body) / 2
    assert gzip.decompress(compressed).startswith(b'{"ok": true')


async def test_an_error_of_ours_is_a_plain_500_with_the_headers_and_no_details(db, caplog):
    app = make_web_app()

    async def broken(request):
        raise RuntimeError("secret detail")

    app.router.add_get("/broken", broken)
    app.router.add_get("/api/v1/broken", broken)
    async with local_sentry() as envelopes, TestClient(TestServer(app, host="127.0.0.1")) as client:
        page = await client.get("/broken")
        assert page.status == 500 and page.headers["Content-Security-Policy"] == CSP
        assert "secret detail" not in await page.text()
        api = await client.get("/api/v1/broken")
        assert api.status == 500 and api.content_type == "application/json"
        assert (await api.json())["error"]["message"].startswith("internal error")
        events = (await envelopes.flushed()).exception_events()
    assert "secret detail" in caplog.text
    assert len(events) == 2, events  # one per failed request, with the error itself in it
    assert all("secret detail" in json.dumps(event) for event in events)
