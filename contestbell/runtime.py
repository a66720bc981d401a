"""The composition root: what each process kind opens, in what order, and how it stops."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sentry_sdk
from aiohttp import web
from taskiq import AsyncBroker, InMemoryBroker

from contestbell.accounts import web_accounts
from contestbell.logs import configure_logging
from contestbell.metrics import serving_metrics
from contestbell.reminders import reminder_clock
from contestbell.resources import SetupError, event_bus, fetch_context, open_database
from contestbell.settings import Settings
from contestbell.telegram import telegram_bot
from contestbell.worker import receive_tasks
from fetchers.events import EventBus
from fetchers.health import start_afresh_where_fetched_otherwise
from fetchers.registry import SiteModule, selected_sites
from fetchers.tasks import make_broker, register_fetch_task
from scheduler.fetch_kicks import new_scheduler, schedule_fetches
from scheduler.leader import make_leadership
from web.app import make_web_app

log = logging.getLogger("contestbell")
#: seconds a stopping web process gives its requests in flight (inside compose's stop_grace_period of 15 s)
SHUTDOWN_GRACE = 10.0


class WithoutTraceback(logging.Filter):
    """One line instead of a traceback, for a library that retries by itself and logs every try with one
    (asyncpg's pool, every few seconds while the database is down)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            record.msg, record.args = f"{record.getMessage()}: {type(error).__name__}: {error}", ()
            record.exc_info = record.exc_text = None
        return True


def init_observability(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    for chatty in ("apscheduler", "tortoise", "taskiq.receiver.receiver"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.getLogger("asyncpg.pool").addFilter(WithoutTraceback())
    if settings.sentry_dsn:
        sentry_sdk.init(dsn=settings.sentry_dsn, traces_sample_rate=0.0)


def sites_to_fetch(settings: Settings) -> list[SiteModule]:
    return selected_sites(settings.site_selection())


@asynccontextmanager
async def started(broker: AsyncBroker) -> AsyncIterator[AsyncBroker]:
    await broker.startup()
    try:
        yield broker
    finally:
        if isinstance(broker, InMemoryBroker):  # `contestbell run`: the fetches in progress finish first
            await broker.wait_all()
        await broker.shutdown()


async def until_stopped() -> None:
    """Wait for SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@asynccontextmanager
async def serving(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    # nginx keeps the access log; on SIGTERM requests in flight get up to SHUTDOWN_GRACE to finish
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("web is listening on http://%s:%d", settings.http_host, settings.http_port)
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def clock(settings: Settings, broker: AsyncBroker, sites: list[SiteModule], bus: EventBus
                ) -> AsyncIterator[None]:
    """APScheduler running the fetch kicks (one job per site) and the reminder clock; shut down on exit."""
    scheduler = new_scheduler()
    afresh = await start_afresh_where_fetched_otherwise([site.info for site in sites], settings.fetch_via)
    if afresh:
        log.info("fetch settings changed since the last start: %s tried at once (backoff forgotten)",
                 ", ".join(afresh))
    schedule_fetches(scheduler, broker, [site.info for site in sites])
    scheduler.start()
    log.info("fetching %s", ", ".join(s.slug for s in sites) or "nothing (CONTESTBELL_SITES=none)")
    try:
        async with reminder_clock(settings, scheduler, bus):
            yield
    finally:
        scheduler.shutdown(wait=False)


async def until_stopped_or(stopped: asyncio.Task[None], lost: asyncio.Task[None]) -> None:
    """Wait for SIGINT/SIGTERM (`stopped`), or for `lost` to finish (leadership lost: stop, the supervisor restarts
    us). `lost` keeps running: the lock is renewed while the clock winds down."""
    await asyncio.wait({stopped, lost}, return_when=asyncio.FIRST_COMPLETED)
    if lost.done() and not stopped.done():
        raise SetupError("scheduler leadership lost; stopping so that only one scheduler leads")


def require_redis(settings: Settings, process: str) -> str:
    if not settings.redis_url:
        raise SetupError(f"`contestbell {process}` needs CONTESTBELL_REDIS_URL (or use `contestbell run`)")
    return settings.redis_url


async def run_all(settings: Settings) -> None:
    """`contestbell run`: web, scheduler and an in-process worker in one process."""
    sites = sites_to_fetch(settings)
    async with open_database(settings), event_bus(settings) as bus, fetch_context(settings, bus) as context, \
            web_accounts(settings) as accounts:
        broker = make_broker(None)
        register_fetch_task(broker, context)
        app = make_web_app(bus=bus, public_url=settings.base_url(), accounts=accounts,
                           trusted_proxies=settings.trusted_proxy_networks())
        async with telegram_bot(settings, app, may_poll=True), started(broker), serving(app, settings), \
                clock(settings, broker, sites, bus):
            await until_stopped()


async def run_web(settings: Settings) -> None:
    """`contestbell web`: the aiohttp process alone (scale it out behind nginx; with Redis, every web process
    pushes every change to its live pages)."""
    async with open_database(settings), event_bus(settings) as bus, web_accounts(settings) as accounts:
        app = make_web_app(bus=bus, public_url=settings.base_url(), accounts=accounts,
                           trusted_proxies=settings.trusted_proxy_networks())
        async with telegram_bot(settings, app, may_poll=False), serving(app, settings):
            await until_stopped()


async def run_worker(settings: Settings) -> None:
    """`contestbell worker`: runs fetch tasks from the Redis queue (metrics on their own port, when set)."""
    async with serving_metrics(settings):
        await work(settings)


async def work(settings: Settings) -> None:
    redis_url = require_redis(settings, "worker")
    async with open_database(settings), event_bus(settings) as bus, fetch_context(settings, bus) as context:
        broker = make_broker(redis_url)
        register_fetch_task(broker, context)
        async with started(broker):
            finish = asyncio.Event()
            receiving = asyncio.create_task(receive_tasks(broker, finish, max_async_tasks=20))
            log.info("worker is waiting for tasks")
            try:
                await until_stopped()
                log.info("worker is stopping: it takes no more tasks and finishes the fetches in progress")
            finally:
                finish.set()
                await receiving


async def run_scheduler(settings: Settings) -> None:
    """`contestbell scheduler`: kicks fetches into the Redis queue at each site's interval and sends reminders, while
    it leads (metrics on their own port, when set, also while it stands by)."""
    async with serving_metrics(settings):
        await lead_and_schedule(settings)


async def lead_and_schedule(settings: Settings) -> None:
    redis_url = require_redis(settings, "scheduler")
    sites = sites_to_fetch(settings)
    leadership = make_leadership(redis_url)
    stopped = asyncio.create_task(until_stopped())  # a stand-by stops cleanly too
    acquiring = asyncio.create_task(leadership.acquire())
    try:
        await asyncio.wait({stopped, acquiring}, return_when=asyncio.FIRST_COMPLETED)
        if stopped.done():
            return
        acquiring.result()
        # on SIGTERM the clock settles what it claimed while the lock is still renewed, then the lock is let go
        # at once (a stand-by leads within milliseconds); the database and queue close after that
        async with open_database(settings), event_bus(settings) as bus, \
                started(make_broker(redis_url)) as broker, leadership.held() as lost, \
                clock(settings, broker, sites, bus):
            await until_stopped_or(stopped, lost)
    finally:
        for task in (stopped, acquiring):
            task.cancel()
        await asyncio.gather(stopped, acquiring, return_exceptions=True)
        await leadership.release()
