"""The change stream: the `contest_change` rows ingest writes in the same transaction as the contests, read in
order of their id. Followers (live pages, the API cache, the reminder clock) keep the last id they handled and
read what came after it whenever the bus rings (fetchers/events.py) and at least every `POLL_EVERY` seconds, so
a lost wake-up delays them by at most that much and loses nothing.

Ids are handed out in commit order: ingest takes a lock (on PostgreSQL; SQLite writes one transaction at a time
anyway) just before it inserts its rows and keeps it until it commits, so a follower that has read id N will never
later see a row below N appear.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

import sentry_sdk

from fetchers.contest import iso_z
from fetchers.events import EventBus
from models.contest import ContestChange
from models.outages import Complaints

#: at most this many seconds between two looks at the stream, whatever the bus does
POLL_EVERY = 2.0
#: rows read at a time
BATCH = 1000
#: while the bus or the database is down, one warning per this many seconds
COMPLAIN_EVERY = 60.0
log = logging.getLogger(__name__)

Event = dict[str, Any]


async def last_change_id(noticed_before: datetime | None = None) -> int:
    """The newest change's id (0 when there is none), or the newest noticed before a moment."""
    query = ContestChange.all() if noticed_before is None else ContestChange.filter(noticed_at__lt=noticed_before)
    return await query.order_by("-id").first().values_list("id", flat=True) or 0


def change_event(change: ContestChange) -> Event:
    """A change as live pages receive it: what the contest is now (times ISO 8601 UTC) and what it was."""
    contest = change.contest
    return {
        "id": change.id,
        "kind": change.kind.value,
        "site": contest.site_id,
        "key": contest.key,
        "title": change.new_title or contest.title,
        "url": contest.url,
        "start": iso_z(change.new_start or contest.start),
        "duration": change.new_duration if change.new_duration is not None else contest.duration,
        "old_start": iso_z(change.old_start) if change.old_start else None,
        "old_title": change.old_title,
    }


async def changes_after(change_id: int, limit: int = BATCH) -> list[Event]:
    rows = await (ContestChange.filter(id__gt=change_id).order_by("id").limit(limit)
                  .select_related("contest"))
    return [change_event(row) for row in rows]


class ChangeFollower:
    """Hands every change after `after_id` (by default: after the newest when it starts) to `deliver`, in order,
    as soon as the bus rings and at least every `poll_every` seconds; runs until cancelled. Neither a failing bus
    nor a failing database stops it."""

    def __init__(self, bus: EventBus, deliver: Callable[[list[Event]], Awaitable[None]], what: str,
                 after_id: int | None = None, poll_every: float = POLL_EVERY) -> None:
        self.bus, self.deliver, self.after_id, self.what = bus, deliver, after_id, what
        self.poll_every = poll_every
        self._rung = asyncio.Event()

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen())
        try:
            await self._read_forever()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _listen(self) -> None:
        """Keep a subscription to the bus; each ring wakes the reader."""
        trouble = Complaints(f"{self.what}: the event bus", log, every=COMPLAIN_EVERY)
        while True:
            try:
                async with self.bus.wake_ups() as rings:
                    trouble.worked()
                    self._rung.set()  # changes may have come while we were not listening
                    async for _ring in rings:
                        self._rung.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the bus is down: the reader polls meanwhile
                trouble.failed(error)
            await asyncio.sleep(self.poll_every)

    async def _read_forever(self) -> None:
        trouble = Complaints(f"{self.what}: the change stream in the database", log, every=COMPLAIN_EVERY)
        while True:
            self._rung.clear()  # a ring from now on is for rows this look may not see
            try:
                await self.catch_up()
                trouble.worked()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down: try again at the next look
                trouble.failed(error)
            with suppress(TimeoutError):  # not wait_for: on Python 3.11 it can swallow a cancellation
                async with asyncio.timeout(self.poll_every):
                    await self._rung.wait()

    async def catch_up(self) -> None:
        """Deliver everything after the last id handled."""
        if self.after_id is None:
            self.after_id = await last_change_id()
        while events := await changes_after(self.after_id):
            self.after_id = events[-1]["id"]
            try:
                await self.deliver(events)
            except Exception as error:  # a bug of ours in one follower: reported, and the stream goes on
                log.exception("%s could not take changes up to %d", self.what, self.after_id)
                sentry_sdk.capture_exception(error)
            if len(events) < BATCH:
                return
