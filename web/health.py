"""`/healthz`: is the database answering, and which sites are stale or failing."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from fetchers.contest import iso_z
from models.contest import Site
from models.outages import DATABASE_DOWN, Complaints
from web.keys import BUS
from web.middleware import RETRY_AFTER

#: a site is stale when it has not been fetched successfully for this many of its intervals
STALE_AFTER_INTERVALS = 3
#: what fetchers.pipeline.error_class writes: a few lower-case words
_ERROR_CLASS = re.compile(r"[a-z0-9 ]{1,40}")
log = logging.getLogger("contestbell.web.health")
DATABASE = Complaints("the database (/healthz)", log)


def shown_error(stored: str | None) -> str | None:
    """The stored error class; a free text kept by an older version (it could name hosts) shows as "error"."""
    if stored is None:
        return None
    return stored if _ERROR_CLASS.fullmatch(stored) else "error"


def site_health(site: Site, now: datetime) -> dict[str, Any]:
    every = timedelta(seconds=site.every_seconds)
    stale = site.last_success is None or now - site.last_success > every * STALE_AFTER_INTERVALS
    return {
        "site": site.slug,
        "ok": not stale and site.consecutive_failures == 0,
        "stale": stale,
        "last_try": iso_z(site.last_try) if site.last_try else None,
        "last_success": iso_z(site.last_success) if site.last_success else None,
        "consecutive_failures": site.consecutive_failures,
        "last_error": shown_error(site.last_error),
    }


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers (sites may still be stale, and Redis degraded: they are listed), 503 with
    Retry-After otherwise. Nothing here quotes an error: only what is down."""
    try:
        sites = await Site.all().order_by("slug")
    except DATABASE_DOWN as error:
        DATABASE.failed(error)
        return web.json_response({"ok": False, "database": "unavailable"}, status=503,
                                 headers={"Retry-After": str(RETRY_AFTER)})
    DATABASE.worked()
    bus = request.app[BUS]
    now = datetime.now(UTC)
    report = [site_health(site, now) for site in sites]
    return web.json_response({
        "ok": True,
        "database": "ok",
        "redis": ("ok" if await bus.healthy() else "degraded") if bus.uses_redis else "not used",
        "stale_sites": [s["site"] for s in report if s["stale"]],
        "sites": report,
    })
