"""`/metrics` in Prometheus's text format, and the count and latency of every HTTP request by route.

The web app serves `/metrics` on its own port (nginx keeps it from the outside) with the site gauges read from the
database at each scrape; worker and scheduler serve the same handler, without those, on a port of their own
(contestbell/metrics.py). Requests are labelled with the route's pattern (`/link/{token}`), never the path, which
can carry a token; a path that matches no route is `unmatched`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from models.metrics import HTTP_DURATION, HTTP_REQUESTS, clear_site_gauges, refresh_site_gauges
from models.outages import DATABASE_DOWN, Complaints

METRICS_PATH = "/metrics"
#: methods counted under their own name; anything else a client invents is `other`
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: what a request counts as when its client went away before the answer (nginx's number for it)
CLIENT_GONE = 499
SWITCHING_PROTOCOLS = 101

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("contestbell.web.metrics")
DATABASE = Complaints("the database (/metrics)", log)


def exposition() -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def process_metrics(request: web.Request) -> web.Response:
    """What this process counted (worker, scheduler)."""
    return exposition()


async def metrics_with_sites(request: web.Request) -> web.Response:
    """What this process counted, and the sites' health and contests as the database has them now (while the
    database is down those are left out, and /healthz says so)."""
    try:
        await refresh_site_gauges()
    except DATABASE_DOWN as error:
        DATABASE.failed(error)
        clear_site_gauges()
    else:
        DATABASE.worked()
    return exposition()


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def count_request(request: web.Request, status: int, seconds: float) -> None:
    method = request.method if request.method in METHODS else "other"
    route = route_of(request)
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    if status != SWITCHING_PROTOCOLS:  # a WebSocket's time is how long the page stayed open
        HTTP_DURATION.labels(method, route).observe(seconds)


@web.middleware
async def http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: counts the status the client gets, errors turned into responses included."""
    started = time.perf_counter()
    status = web.HTTPInternalServerError.status_code
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    finally:
        count_request(request, status, time.perf_counter() - started)


def add_metrics_route(app: web.Application, *, with_sites: bool) -> None:
    app.router.add_get(METRICS_PATH, metrics_with_sites if with_sites else process_metrics)


def metrics_app() -> web.Application:
    """The small app of a process that serves nothing else (worker, scheduler): `/metrics` alone."""
    app = web.Application()
    add_metrics_route(app, with_sites=False)
    return app
