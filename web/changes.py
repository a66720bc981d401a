"""Following the change stream for as long as the app runs: one follower per web process (fetchers/changes.py)
hands each batch of changes to every listener the app's parts registered: live pages forward them, the API cache
forgets its answers. Neither a failing bus nor a failing database stops the app: the follower retries, and the
pages and the API keep serving meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web

from fetchers.changes import ChangeFollower, Event
from web.keys import BUS


class Listener(Protocol):
    async def changed(self, events: list[Event]) -> None: ...


LISTENERS = web.AppKey("change_listeners", list)


def listen(app: web.Application, listener: Listener) -> None:
    """`listener` hears every change while the app runs (register before the app starts)."""
    app.setdefault(LISTENERS, []).append(listener)


async def following_changes(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context (app.cleanup_ctx): the follower runs from the app's start to its end."""
    listeners: list[Listener] = app.get(LISTENERS, [])

    async def deliver(events: list[Event]) -> None:
        for listener in listeners:
            await listener.changed(events)

    follower = ChangeFollower(app[BUS], deliver, "web: live pages and API cache")
    task = asyncio.create_task(follower.run(), name="change follower")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
