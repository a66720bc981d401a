"""Site rows and their fetch health: last try, last success, failures in a row, last error."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import F

from fetchers.contest import SiteInfo
from models.contest import Site
from models.metrics import FETCHES


async def ensure_sites(infos: Iterable[SiteInfo]) -> None:
    """Create or refresh the Site row of every known site module (health columns are kept)."""
    rows = [
        Site(slug=i.slug, name=i.name, url=i.url, every_seconds=int(i.every.total_seconds()), source=i.source,
             listed=i.listed)
        for i in infos
    ]
    if rows:
        await Site.bulk_create(rows, on_conflict=["slug"],
                               update_fields=["name", "url", "every_seconds", "source", "listed"])


def fetch_fingerprint(fetch_via: str | None, url: str) -> str:
    """What a site's fetches go through (CONTESTBELL_FETCH_VIA and the site's address), in 16 hex digits."""
    return hashlib.sha256(f"{fetch_via or ''}\n{url}".encode()).hexdigest()[:16]


async def start_afresh_where_fetched_otherwise(infos: Iterable[SiteInfo], fetch_via: str | None) -> list[str]:
    """Forget the failures in a row (and the last try) of every site whose fetch settings changed since the clock
    last started: they were failures of the old settings (a mirror that is gone, a site that moved), and would
    keep the site backing off for hours. Such sites are then fetched at once. Returns the slugs of those that had
    been tried before."""
    wanted = {info.slug: fetch_fingerprint(fetch_via, info.url) for info in infos}
    rows = await Site.filter(slug__in=list(wanted)).values_list("slug", "fetch_settings", "last_try")
    changed = [(slug, tried) for slug, stored, tried in rows if stored != wanted[slug]]
    for slug, _ in changed:
        await Site.filter(slug=slug).update(fetch_settings=wanted[slug], consecutive_failures=0, last_try=None)
    return sorted(slug for slug, tried in changed if tried is not None)


async def record_try(slug: str, now: datetime) -> None:
    await Site.filter(slug=slug).update(last_try=now)


async def record_success(slug: str, now: datetime) -> None:
    await Site.filter(slug=slug).update(
        last_try=now, last_success=now, consecutive_failures=0, last_error=None
    )
    FETCHES.labels(slug, "ok").inc()


async def record_failure(slug: str, now: datetime, error: str) -> int:
    """Count one more failure in a row; returns how many there are now. `error` is the error class (a few words)."""
    FETCHES.labels(slug, error[:40]).inc()
    site = await Site.get(slug=slug)
    site.last_try = now
    site.consecutive_failures += 1
    site.last_error = error[:2000]
    await site.save(update_fields=["last_try", "consecutive_failures", "last_error"])
    return site.consecutive_failures


async def sites_of_source(source: str) -> list[str]:
    """The sites a source (clist) fills, as found so far."""
    return await Site.filter(source=source).values_list("slug", flat=True)


async def record_source_failure(source: str, now: datetime, error: str) -> None:
    """A failed fetch of a source leaves every site it fills stale: each counts one more failure."""
    await Site.filter(source=source).update(
        last_try=now, consecutive_failures=F("consecutive_failures") + 1, last_error=error[:2000]
    )
