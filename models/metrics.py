"""Every Prometheus metric of contestbell, defined once, in the process's default registry.

This module sits at the bottom of the import graph (beside the models), so fetchers/, notify/, scheduler/ and web/
record into it without importing upward; the composition root only serves it (`/metrics` on the web port, or a
port of its own for worker and scheduler: contestbell/metrics.py). Each process exposes what it does itself; the
gauges read from the database (site health, contests per site) are refreshed when a web process is scraped
(`refresh_site_gauges`), so a dashboard takes `max by (site)` over the web processes.

Label values are bounded: sites, channels, kinds and statuses are short fixed lists, and HTTP requests are labelled
with the route's pattern (`/link/{token}`), never the path, which can carry a token.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.contest import Contest, Site

disable_created_metrics()  # no `_created` series beside every counter: Prometheus does not need them

# fetching (recorded with each fetch's health: fetchers/health.py)
FETCHES = Counter("contestbell_fetches", "Fetches of a site by outcome: ok, or the error class (timeout, http 500, "
                  "parse error, ...)", ["site", "outcome"])

# site health and contests, read from the database when a web process is scraped
SITE_STALENESS = Gauge("contestbell_site_staleness_seconds", "Seconds since the site's last successful fetch "
                       "(+Inf: never fetched successfully)", ["site"])
SITE_LAST_SUCCESS = Gauge("contestbell_site_last_success_timestamp_seconds",
                          "Unix time of the site's last successful fetch", ["site"])
SITE_FAILURES = Gauge("contestbell_site_consecutive_failures", "Failed fetches of the site in a row", ["site"])
SITE_INTERVAL = Gauge("contestbell_site_fetch_interval_seconds", "How often the site is fetched", ["site"])
CONTESTS = Gauge("contestbell_contests", "Contests of the site kept in the database, not cancelled", ["site"])
UPCOMING_CONTESTS = Gauge("contestbell_upcoming_contests", "Contests of the site not yet ended, not cancelled",
                          ["site"])
SITE_GAUGES = (SITE_STALENESS, SITE_LAST_SUCCESS, SITE_FAILURES, SITE_INTERVAL, CONTESTS, UPCOMING_CONTESTS)

# reminders (scheduler/)
REMINDERS_PLANNED = Gauge("contestbell_reminders_planned", "Reminders in the scheduler's current plan (one per "
                          "account and contest and offset)")
DELIVERIES = Counter("contestbell_deliveries", "Sent-log rows settled by this process: reminders, snoozes and "
                     "moved/cancelled notices, by channel, kind and status (sent, failed, skipped)",
                     ["channel", "kind", "status"])
REMINDER_LATENESS = Histogram("contestbell_reminder_lateness_seconds", "Sent time minus due time of each reminder "
                              "sent", ["channel"], buckets=(1, 5, 15, 30, 60, 120, 300, 900, 3600, 6 * 3600))
REMINDERS_LATE = Counter("contestbell_reminders_late", "Reminders sent more than a minute after they fell due",
                         ["channel"])

# delivery channels (notify/)
TELEGRAM_REQUESTS = Counter("contestbell_telegram_requests", "sendMessage requests made to the Telegram Bot API")
TELEGRAM_429 = Counter("contestbell_telegram_429_responses", "429 Too Many Requests answers from Telegram (every "
                       "send of the bot pauses for their retry_after)")
TELEGRAM_SEND_RATE = Gauge("contestbell_telegram_send_rate", "sendMessage requests per second made by this "
                           "process over the last 10 seconds")
EMAILS_SENT = Counter("contestbell_emails_sent", "Emails the SMTP server accepted")
SMTP_FAILURES = Counter("contestbell_smtp_failures", "Emails the SMTP server did not take, by whether a later try "
                        "may work (temporary) or not (permanent)", ["kind"])

# web
WEBSOCKET_CLIENTS = Gauge("contestbell_websocket_clients", "Live pages connected to /ws")
HTTP_REQUESTS = Counter("contestbell_http_requests", "HTTP requests answered, by method, route pattern and status",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("contestbell_http_request_duration_seconds", "Time to answer an HTTP request (WebSocket "
                          "sessions not included), by method and route pattern", ["method", "route"])

# logs (contestbell/runtime.py counts every record the process logs)
LOG_MESSAGES = Counter("contestbell_log_messages", "Log records written, by level", ["level"])


class RecentRate:
    """Events per second over the last `window` seconds (for a gauge read at scrape time)."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._moments: deque[float] = deque()

    def mark(self) -> None:
        now = time.monotonic()
        self._moments.append(now)
        self._forget(now)

    def per_second(self) -> float:
        self._forget(time.monotonic())
        return len(self._moments) / self.window

    def _forget(self, now: float) -> None:
        while self._moments and self._moments[0] <= now - self.window:
            self._moments.popleft()


TELEGRAM_SENDS = RecentRate()
TELEGRAM_SEND_RATE.set_function(TELEGRAM_SENDS.per_second)


def staleness(last_success: datetime | None, now: datetime) -> float:
    return (now - last_success).total_seconds() if last_success else float("inf")


async def refresh_site_gauges(now: datetime | None = None) -> None:
    """Read site health and contest counts from the database into their gauges (three queries; a site no longer in
    the database leaves them)."""
    now = now or datetime.now(UTC)
    sites = await Site.all().values_list("slug", "last_success", "consecutive_failures", "every_seconds")
    stored = await per_site(Contest.filter(cancelled=False))
    upcoming = await per_site(Contest.filter(cancelled=False, end__gte=now))
    clear_site_gauges()
    for slug, last_success, failures, every in sites:
        SITE_STALENESS.labels(slug).set(staleness(last_success, now))
        if last_success is not None:
            SITE_LAST_SUCCESS.labels(slug).set(last_success.timestamp())
        SITE_FAILURES.labels(slug).set(failures)
        SITE_INTERVAL.labels(slug).set(every)
        CONTESTS.labels(slug).set(stored.get(slug, 0))
        UPCOMING_CONTESTS.labels(slug).set(upcoming.get(slug, 0))


def clear_site_gauges() -> None:
    for gauge in SITE_GAUGES:
        gauge.clear()


async def per_site(contests: QuerySet[Contest]) -> dict[str, int]:
    """How many of `contests` each site has."""
    return dict(await contests.annotate(n=Count("id")).group_by("site_id").values_list("site_id", "n"))
