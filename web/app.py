"""Builds the aiohttp application that the web process (and `contestbell run`) serves."""

from __future__ import annotations

from aiohttp import web

from web.email import add_email_routes
from web.health import healthz


def make_web_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    add_email_routes(app)
    return app
