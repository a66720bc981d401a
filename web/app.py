"""Builds the aiohttp application that the web process (and `contestbell run`) serves."""

from __future__ import annotations

from aiohttp import web

from web.health import healthz


def make_web_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app
