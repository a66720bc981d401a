"""Following the event bus for as long as the app runs: live pages forward changes, the API cache forgets.

A failed subscription (Redis restarting, say) is logged, sent to Sentry and retried; it never stops the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import sentry_sdk
from aiohttp import web

from fetchers.events import Event, EventBus
from web.keys import BUS

log = logging.getLogger("contestbell.web.changes")

#: how long to wait before subscribing again after the bus failed
RESUBSCRIBE_AFTER = 1.0


class Listener(Protocol):
    def subscribed(self) -> None:
        """Called on every (re)subscription: changes may have been missed before it."""

    async def changed(self, event: Event) -> None: ...


async def follow(bus: EventBus, listener: Listener, what: str) -> None:
    while True:
        try:
            async with bus.subscribe() as events:
                listener.subscribed()
                async for event in events:
                    await listener.changed(event)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the bus is down: retry; the pages and the API keep serving meanwhile
            log.warning("%s paused, the event bus failed: %s", what, error)
            sentry_sdk.capture_exception(error)
            await asyncio.sleep(RESUBSCRIBE_AFTER)


def following(listener_of: Callable[[web.Application], Listener], what: str
              ) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context (app.cleanup_ctx) that feeds the app's bus to `listener_of(app)` while the app runs."""

    async def running(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(follow(app[BUS], listener_of(app), what), name=what)
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return running
