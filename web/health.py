"""`/healthz`: is the database answering, and which sites are stale or failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from fetchers.contest import iso_z
from models.contest import Site

#: a site is stale when it has not been fetched successfully for this many of its intervals
STALE_AFTER_INTERVALS = 3


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
        "last_error": site.last_error,
    }


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers (sites may still be stale: they are listed), 503 otherwise."""
    try:
        sites = await Site.all().order_by("slug")
    except Exception as error:  # any database failure means "not healthy", with the reason
        return web.json_response({"ok": False, "database": f"error: {error}"}, status=503)
    now = datetime.now(UTC)
    report = [site_health(site, now) for site in sites]
    return web.json_response({
        "ok": True,
        "database": "ok",
        "stale_sites": [s["site"] for s in report if s["stale"]],
        "sites": report,
    })
