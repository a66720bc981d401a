"""Builds the aiohttp application that the web process (and `contestbell run`) serves: the calendar pages,
the JSON API, the iCal feeds, the live WebSocket, the email links and /healthz. The Telegram webhook is
mounted on it by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis
from aiogram.utils.i18n import I18n
from aiohttp import web
from aiohttp_session import setup as setup_sessions

from fetchers.events import EventBus, LocalBus
from notify.addresses import Mailer
from notify.discord import DiscordChannel
from notify.i18n import make_i18n
from notify.telegram import TelegramSender
from web.account import add_account_routes
from web.api import add_api_routes
from web.changes import following_changes
from web.email import add_email_routes
from web.feeds import add_feed_routes
from web.health import healthz
from web.keys import BUS, I18N, PUBLIC_URL
from web.live import add_live_routes
from web.metrics import add_metrics_route, http_metrics
from web.middleware import gzip, quiet_about_malformed_requests, security_headers, storable_input_only
from web.pages import add_page_routes
from web.proxies import LOOPBACK, Network, parse_networks, real_client_address
from web.sessions import session_storage
from web.signin import SignInOptions, add_signin_routes

LOCAL_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class Accounts:
    """What the web needs for people's accounts: the key that encrypts session cookies (or Redis, where
    sessions live when it is configured), the sign-in providers, the mailer for email addresses, Discord for
    the test message of a webhook, and the bot's sender that tells a chat its email address is confirmed."""

    secret_key: str | None = None
    redis: aioredis.Redis | None = None
    sign_in: SignInOptions = field(default_factory=SignInOptions)
    mailer: Mailer | None = None
    discord: DiscordChannel | None = None
    telegram: TelegramSender | None = None


def make_web_app(*, bus: EventBus | None = None, public_url: str = LOCAL_URL, i18n: I18n | None = None,
                 accounts: Accounts | None = None, trusted_proxies: tuple[Network, ...] | None = None
                 ) -> web.Application:
    """`bus` carries contest changes to live pages (in-process when not given); `public_url` is where the
    site is reached from outside, for the links it prints (personal feed URLs, sign-in callbacks);
    `trusted_proxies` may say who the client is in X-Forwarded-For (loopback when not given)."""
    accounts = accounts or Accounts()
    trusted = parse_networks(LOOPBACK) if trusted_proxies is None else trusted_proxies
    quiet_about_malformed_requests()
    app = web.Application(middlewares=[real_client_address(trusted), http_metrics, security_headers,
                                       storable_input_only, gzip])
    app[I18N] = i18n or make_i18n()
    app[BUS] = bus or LocalBus()
    app[PUBLIC_URL] = public_url.rstrip("/")
    setup_sessions(app, session_storage(accounts.secret_key, accounts.redis, secure=public_url.startswith("https:")))
    app.router.add_get("/healthz", healthz)
    add_metrics_route(app, with_sites=True)
    add_page_routes(app)
    add_api_routes(app)
    add_feed_routes(app)
    add_live_routes(app)
    add_email_routes(app, accounts.telegram)
    add_signin_routes(app, accounts.sign_in)
    add_account_routes(app, accounts.mailer, accounts.discord)
    app.cleanup_ctx.append(following_changes)
    return app
