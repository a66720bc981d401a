"""One fetch of one site, start to end: fetch, parse, ingest, record health, ring the bus when something changed.

Whatever a site does (fails, times out, answers garbage, suddenly lists far fewer contests) it only
counts as a failure of that site: nothing in the database changes and other sites carry on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sentry_sdk

from fetchers.contest import Contest, ParseError, SiteInfo
from fetchers.events import EventBus
from fetchers.health import (
    ensure_sites,
    record_failure,
    record_source_failure,
    record_success,
    record_try,
    sites_of_source,
)
from fetchers.http import FetchError, SiteClient
from fetchers.ingest import IngestReport, ShrunkFetch, ingest
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


@dataclass(slots=True)
class FetchFailure:
    """A fetch that failed and has been dealt with: recorded in the site's health, logged once, and sent to
    Sentry when it was a bug."""

    site: str
    error: Exception

    def summary(self) -> dict[str, Any]:
        return {"site": self.site, "error": error_class(self.error)}


async def fetch_and_ingest(site: SiteModule, context: FetchContext) -> IngestReport:
    """Fetch `site` now; on any failure record it in the site's health and raise."""
    result = await try_fetch(site, context)
    if isinstance(result, FetchFailure):
        raise result.error
    return result


async def try_fetch(site: SiteModule, context: FetchContext) -> IngestReport | FetchFailure:
    """Fetch `site` now; a failure is noted (health, one log line, Sentry for a bug) and returned, not raised, so
    that whoever runs this (the task runner) does not report it a second time."""
    now = utcnow()
    await record_try(site.slug, now)
    try:
        async with asyncio.timeout(FETCH_DEADLINE):
            contests = await site.fetch(context.http)
        report = await ingest_recent(site, contests, now, context.keep_past)
    except Exception as error:
        await note_failure(site.slug, now, error)
        if site.site_info:
            await record_source_failure(site.slug, now, error_class(error))
        return FetchFailure(site.slug, error)
    await record_success(site.slug, now)
    if report.changes:
        await context.bus.wake()
    log.info("fetched %s: %s", site.slug, report.summary_line(), extra={"site": site.slug})
    return report


async def ingest_recent(source: SiteModule, contests: list[Contest], now: datetime, keep_past: timedelta
                        ) -> IngestReport:
    """Ingest the contests that ended at most `keep_past` ago; the report counts the others as too old (a capture
    replayed months later is all too old: the summary says so instead of showing nothing)."""
    fresh = recent_enough(contests, now, keep_past)
    report = await ingest_source(source, fresh, now)
    report.too_old = len(contests) - len(fresh)
    return report


async def ingest_source(source: SiteModule, contests: list[Contest], now: datetime) -> IngestReport:
    if source.site_info is None:
        return await ingest(source.slug, contests, now)
    return await ingest_per_site(source, source.site_info, contests, now)


async def ingest_per_site(source: SiteModule, site_info: Callable[[Contest], SiteInfo], contests: list[Contest],
                          now: datetime) -> IngestReport:
    """Ingest a source that fills many sites (clist) one site at a time, each with its own health: a site whose
    part of the answer shrank is refused alone, and a site the answer no longer lists still counts misses.
    Contests of sites that another source fetches (our native sites) are left to that source."""
    by_site: dict[str, list[Contest]] = defaultdict(list)
    infos: dict[str, SiteInfo] = {}
    for contest in contests:
        info = infos.setdefault(contest.site, site_info(contest))
        if info.source == source.slug:
            by_site[contest.site].append(contest)
    await ensure_sites(info for info in infos.values() if info.source == source.slug)
    await ensure_sites(infos.values())
    report = IngestReport(source.slug)
    for slug in sorted(set(by_site) | set(await sites_of_source(source.slug))):
        try:
            part = await ingest(slug, by_site.get(slug, []), now)
        except ShrunkFetch as error:
            await note_failure(slug, now, error)
            continue
        await record_success(slug, now)
        report.changes.extend(part.changes)
        report.unchanged += part.unchanged
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


def one_line(error: Exception) -> str:
    """The error's class and text on one line (a site's answer quoted in a message cannot start a line)."""
    text = " ".join(str(error).split())
    return f"{error.__class__.__name__}: {text}" if text else error.__class__.__name__


async def note_failure(slug: str, now: datetime, error: Exception) -> None:
    """One log line per failed fetch: a WARNING for what sites do (no traceback, no Sentry event: an outage is
    routine), an ERROR with the traceback and one Sentry event for a bug of ours."""
    failures = await record_failure(slug, now, error_class(error))
    if isinstance(error, SITE_FAULTS):
        log.warning("fetch of %s failed (%d in a row): %s (%s)", slug, failures, error_class(error), one_line(error),
                    extra={"site": slug})
    else:
        log.error("fetch of %s failed with a bug (%d in a row)", slug, failures, exc_info=error, extra={"site": slug})
        sentry_sdk.capture_exception(error)
