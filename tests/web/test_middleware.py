"""What every response gets: security headers (also on errors), and gzip for larger text bodies when asked."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

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
