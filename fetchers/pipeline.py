"""One fetch of one site, start to end: fetch, parse, ingest, record health, ring the bus when something changed.

Whatever a site does (fails, times out, answers garbage, suddenly lists far fewer contests) it only
counts as a failure of that site: nothing in the database changes and other sites carry on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sentry_sdk

from fetchers.contest import Contest, ParseError
from fetchers.events import EventBus
from fetchers.health import record_failure, record_success, record_try
from fetchers.http import FetchError, SiteClient
from fetchers.ingest import IngestReport, ingest
from fetchers.registry import SiteModule

log = logging.getLogger(__name__)

#: a whole fetch (all retries included) may take at most this long
FETCH_DEADLINE = 120.0
#: failures that come from the site, not from us: logged, not sent to Sentry
SITE_FAULTS = (FetchError, ParseError, TimeoutError)


@dataclass(slots=True)
class FetchContext:
    http: SiteClient
    bus: EventBus
    #: contests that ended longer ago are not kept by regular fetches (the archive stays on the sites)
    keep_past: timedelta = timedelta(days=31)


def utcnow() -> datetime:
    return datetime.now(UTC)


def recent_enough(contests: list[Contest], now: datetime, keep_past: timedelta) -> list[Contest]:
    return [c for c in contests if c.end >= now - keep_past]


async def fetch_and_ingest(site: SiteModule, context: FetchContext) -> IngestReport:
    """Fetch `site` now; on any failure record it in the site's health and raise."""
    now = utcnow()
    await record_try(site.slug, now)
    try:
        async with asyncio.timeout(FETCH_DEADLINE):
            contests = await site.fetch(context.http)
        report = await ingest(site.slug, recent_enough(contests, now, context.keep_past), now)
    except Exception as error:
        await note_failure(site.slug, now, error)
        raise
    await record_success(site.slug, now)
    if report.changes:
        await context.bus.wake()
    log.info("fetched %s: %s", site.slug, report.summary_line())
    return report


def error_class(error: Exception) -> str:
    """What went wrong in a few words that anyone may see (/healthz, the API): never the message, which can
    name hosts (the FETCH_VIA mirror) or quote the database."""
    if isinstance(error, FetchError):
        return error.kind
    if isinstance(error, ParseError):
        return "parse error"
    if isinstance(error, TimeoutError):
        return "timeout"
    return "internal error"


async def note_failure(slug: str, now: datetime, error: Exception) -> None:
    message = f"{error.__class__.__name__}: {error}" if str(error) else error.__class__.__name__
    failures = await record_failure(slug, now, error_class(error))
    if isinstance(error, SITE_FAULTS):
        log.warning("fetch of %s failed (%d in a row): %s", slug, failures, message)
    else:
        log.error("fetch of %s failed with a bug (%d in a row)", slug, failures, exc_info=error)
        sentry_sdk.capture_exception(error)
