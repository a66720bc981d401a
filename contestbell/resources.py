"""What the process kinds and the admin commands open: the database (migrated, every site's row in place), the
event bus, the HTTP client for the sites. Nothing here imports the bot, so `contestbell ingest` and the other
short commands start in well under a second (aiogram alone takes seconds to import).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from contestbell.settings import Settings
from fetchers.events import EventBus, make_bus
from fetchers.health import ensure_sites
from fetchers.http import SiteClient, new_session
from fetchers.pipeline import FetchContext
from fetchers.registry import SiteModule, all_sites, clist_source, configure_sources
from models.catalog import listed_sites
from models.db import database


class SetupError(RuntimeError):
    """The process cannot start with these settings; the message says what to change."""


def configured_sources(settings: Settings) -> list[SiteModule]:
    """The operator's sources: iCalendar feeds, and clist.by when its credentials are set."""
    sources: list[SiteModule] = []
    if settings.ical_sources.strip():
        from fetchers.feeds import feed_sources  # the iCalendar reader only for those who list feeds

        sources.extend(feed_sources(settings.ical_sources))
    if settings.clist_username and settings.clist_api_key:
        sources.append(clist_source(settings.clist_username, settings.clist_api_key))
    return sources


def use_configured_sources(settings: Settings) -> None:
    try:
        configure_sources(configured_sources(settings))
    except ValueError as error:
        raise SetupError(str(error)) from error


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[None]:
    """Migrate and open the database, and make sure every site module has its row."""
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    async with database(settings.database_url):
        await ensure_sites(site.info for site in all_sites().values())
        await listed_sites()  # fills the display names that message texts use
        yield


@asynccontextmanager
async def event_bus(settings: Settings) -> AsyncIterator[EventBus]:
    bus = make_bus(settings.redis_url)
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def fetch_context(settings: Settings, bus: EventBus) -> AsyncIterator[FetchContext]:
    gaps = {urlsplit(site.info.url).hostname or "": site.info.request_gap for site in all_sites().values()}
    async with new_session(settings.fetch_timeout) as session:
        client = SiteClient(session, fetch_via=settings.fetch_via, host_gaps=gaps)
        yield FetchContext(client, bus, keep_past=timedelta(days=settings.keep_past_days))
