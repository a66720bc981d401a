"""A local Sentry endpoint: sentry_sdk reports to it over HTTP, and tests read the events it received."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sentry_sdk
from aiohttp import web
from aiohttp.test_utils import TestServer


class Envelopes(list[bytes]):
    async def flushed(self) -> Envelopes:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(sentry_sdk.flush, 5)
        return self

    #: the DSN that reports here (for a process of its own: CONTESTBELL_SENTRY_DSN)
    dsn: str = ""

    def exception_events(self) -> list[dict]:
        return [json.loads(item) for envelope in self for item in envelope.split(b"\n")
                if item.startswith(b"{") and b'"exception"' in item]

    def events(self) -> list[dict]:
        """Every event item (an exception or a logged error), whatever else the envelopes carry (sessions)."""
        found = []
        for envelope in self:
            lines = iter(envelope.split(b"\n")[1:])  # the envelope's header, then item header and payload pairs
            for header in lines:
                payload = next(lines, b"")
                if header.startswith(b"{") and json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


@asynccontextmanager
async def sentry_endpoint() -> AsyncIterator[Envelopes]:
    """A local endpoint that stores what any sentry_sdk sends to `envelopes.dsn` (this process's is left alone)."""
    envelopes = Envelopes()

    async def store(request: web.Request) -> web.Response:
        envelopes.append(await request.read())  # aiohttp has already undone the gzip encoding
        return web.json_response({})

    sentry = web.Application()
    sentry.router.add_post("/api/1/envelope/", store)
    async with TestServer(sentry, host="127.0.0.1") as server:
        envelopes.dsn = f"http://public@127.0.0.1:{server.port}/1"
        yield envelopes


@asynccontextmanager
async def local_sentry() -> AsyncIterator[Envelopes]:
    """sentry_sdk initialised (default integrations) against a local endpoint for the duration."""
    async with sentry_endpoint() as envelopes:
        sentry_sdk.init(dsn=envelopes.dsn, default_integrations=True)
        try:
            yield envelopes
        finally:
            sentry_sdk.init(dsn=None)
