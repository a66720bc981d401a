"""Kicks each site's fetch at its own interval, backing off exponentially while it keeps failing.

One APScheduler interval job per site. At each tick the job looks at the site's health: after N
failures in a row it waits `every * 2**N` (at most BACKOFF_CAP) since the last try before kicking again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from taskiq import AsyncBroker

from fetchers.contest import SiteInfo
from fetchers.tasks import kick_fetch
from models.contest import Site

BACKOFF_CAP = timedelta(hours=6)
log = logging.getLogger(__name__)


def backoff(every: timedelta, failures: int) -> timedelta:
    """How long after the last try a site with `failures` failures in a row is tried again."""
    if failures <= 0:
        return every
    return min(every * 2 ** min(failures, 16), max(BACKOFF_CAP, every))


def is_due(site: Site, now: datetime) -> bool:
    if site.last_try is None or site.consecutive_failures == 0:
        return True
    every = timedelta(seconds=site.every_seconds)
    # a little slack so that a tick landing just before the backoff ends is not skipped a whole interval
    return now >= site.last_try + backoff(every, site.consecutive_failures) - every / 10


async def kick_if_due(broker: AsyncBroker, slug: str) -> None:
    site = await Site.get(slug=slug)
    if not is_due(site, datetime.now(UTC)):
        # the failure itself was logged once by the fetch: a line per skipped tick would only repeat it
        log.debug("%s is backing off after %d failures", slug, site.consecutive_failures)
        return
    await kick_fetch(broker, slug)


def schedule_fetches(scheduler: AsyncIOScheduler, broker: AsyncBroker, sites: Iterable[SiteInfo]) -> None:
    """Add one job per site: first kick within a few seconds (spread out), then every `site.every`."""
    now = datetime.now(UTC)
    for site in sites:
        scheduler.add_job(
            kick_if_due, IntervalTrigger(seconds=site.every.total_seconds(), timezone=UTC),
            args=[broker, site.slug], id=f"fetch:{site.slug}", replace_existing=True,
            next_run_time=now + timedelta(seconds=random.uniform(0, 3)),
            coalesce=True, max_instances=1, misfire_grace_time=int(site.every.total_seconds()),
        )


def new_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
