"""Metrics for the processes that serve no web port of their own: `contestbell worker` and `contestbell scheduler`
serve `/metrics` on CONTESTBELL_HTTP_HOST:CONTESTBELL_METRICS_PORT when the port is set (the web processes and
`contestbell run` serve it on their web port, the latter for everything it runs). The metrics themselves are
defined in models/metrics.py."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from contestbell.settings import Settings
from web.metrics import METRICS_PATH, metrics_app

log = logging.getLogger("contestbell.metrics")


@asynccontextmanager
async def serving_metrics(settings: Settings) -> AsyncIterator[None]:
    """Serve /metrics while the block runs (from before the process waits for the database or for leadership, so
    a stand-by scheduler is seen too); nothing when CONTESTBELL_METRICS_PORT is unset."""
    if settings.metrics_port is None:
        yield
        return
    runner = web.AppRunner(metrics_app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.metrics_port).start()
        log.info("metrics at http://%s:%d%s", settings.http_host, settings.metrics_port, METRICS_PATH)
        yield
    finally:
        await runner.cleanup()
