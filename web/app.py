"""Builds the aiohttp application that the web process (and `contestbell run`) serves: the calendar pages,
the JSON API, the iCal feeds, the live WebSocket, the email links and /healthz. The Telegram webhook is
mounted on it by the composition root."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiohttp import web

from fetchers.events import EventBus, LocalBus
from notify.i18n import make_i18n
from web.api import add_api_routes
from web.changes import following_changes
from web.email import add_email_routes
from web.feeds import add_feed_routes
from web.health import healthz
from web.keys import BUS, I18N, PUBLIC_URL
from web.live import add_live_routes
from web.middleware import gzip, quiet_about_malformed_requests, security_headers, storable_input_only
from web.pages import add_page_routes

LOCAL_URL = "http://127.0.0.1:8080"


def make_web_app(*, bus: EventBus | None = None, public_url: str = LOCAL_URL, i18n: I18n | None = None
                 ) -> web.Application:
    """`bus` carries contest changes to live pages (in-process when not given); `public_url` is where the
    site is reached from outside, for the links it prints (personal feed URLs)."""
    quiet_about_malformed_requests()
    app = web.Application(middlewares=[security_headers, storable_input_only, gzip])
    app[I18N] = i18n or make_i18n()
    app[BUS] = bus or LocalBus()
    app[PUBLIC_URL] = public_url.rstrip("/")
    app.router.add_get("/healthz", healthz)
    add_page_routes(app)
    add_api_routes(app)
    add_feed_routes(app)
    add_live_routes(app)
    add_email_routes(app)
    app.cleanup_ctx.append(following_changes)
    return app
