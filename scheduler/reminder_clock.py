"""The reminder clock: APScheduler wakes it at the next due moment (not a coarse poll); each wake sends what
fell due since the last one, then sets the next wake. The plan is remade every few seconds and at once
when ingest reports a contest change, so new contests, moves and settings changes are followed.

On start the clock looks back over the longest reminder offset: what fell due while the service was down is
sent late if its contest has not started yet, otherwise skipped and counted in the log.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from fetchers.changes import ChangeFollower, Event, last_change_id
from fetchers.events import EventBus
from models.contest import ContestChange
from models.metrics import REMINDERS_PLANNED
from scheduler.dispatch import NOTICED, ReminderRun, describe, report_interrupted
from scheduler.plan import Plan, SkippedAccounts, plan_reminders

#: how far back the clock looks when it starts (the longest reminder offset allowed)
LOOK_BACK = timedelta(days=7)
REPLAN_EVERY = timedelta(seconds=5)
WAKE_JOB = "reminders:wake"
log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ReminderClock:
    def __init__(self, scheduler: AsyncIOScheduler, run: ReminderRun) -> None:
        self.scheduler, self.run = scheduler, run
        self.watermark = utcnow() - LOOK_BACK  # everything due up to here has been handled
        self.noticed_through = 0  # every change up to this id has had its notices (read on start)
        self.plan = Plan()
        self.skipped = SkippedAccounts()
        self._lock = asyncio.Lock()
        self.stopped = False

    async def start(self) -> None:
        await report_interrupted(utcnow())
        self.noticed_through = await last_change_id(noticed_before=self.watermark)
        self.scheduler.add_job(self.replan, IntervalTrigger(seconds=REPLAN_EVERY.total_seconds(), timezone=UTC),
                               id="reminders:replan", replace_existing=True, coalesce=True, max_instances=1)
        await self.replan()

    async def replan(self) -> None:
        async with self._lock:
            if self.stopped:
                return
            self.plan = await plan_reminders(utcnow(), self.watermark, self.run.channels, self.skipped)
            REMINDERS_PLANNED.set(self.plan.reminders)
            changed = await ContestChange.filter(id__gt=self.noticed_through, kind__in=list(NOTICED)).exists()
            self._set_wake(at_once=changed)

    async def stop(self) -> None:
        """SIGTERM: what is claimed is sent and settled; nothing more is claimed (it goes out after the restart)."""
        self.stopped = True
        self.run.stop()
        async with self._lock:
            pass

    async def wake(self) -> None:
        async with self._lock:
            if self.stopped:
                return
            now = utcnow()
            due = self.plan.due_between(self.watermark, now)
            noticed_through = await last_change_id()
            outcomes = [await self.run.notify_changes(self.plan, self.noticed_through, noticed_through, now),
                        await self.run.remind(self.plan, due, now),
                        await self.run.send_snoozed(self.plan, self.plan.snoozed_until(now), now)]
            self.plan.snoozed = [s for s in self.plan.snoozed if s.due > now]
            if due or any(o.counts.total() for o in outcomes):
                log.info("reminders at %s: %s", now.isoformat(timespec="seconds"), describe(outcomes) or "nothing")
            self.watermark, self.noticed_through = now, noticed_through
            self._set_wake()

    def _set_wake(self, at_once: bool = False) -> None:
        """Wake at the next due moment, at the latest when the plan is next remade; at once for changes."""
        upcoming = self.plan.next_due(self.watermark)
        moment = min(upcoming, utcnow() + REPLAN_EVERY) if upcoming else utcnow() + REPLAN_EVERY
        if at_once:
            moment = utcnow()
        self.scheduler.add_job(self.wake, DateTrigger(run_date=max(moment, utcnow()), timezone=UTC), id=WAKE_JOB,
                               replace_existing=True, misfire_grace_time=None, coalesce=True, max_instances=1)

    async def follow_changes(self, bus: EventBus) -> None:
        """Replan soon after ingest writes changes (a burst of them makes one replan); runs until cancelled. The
        change stream is followed from the database, so a lost wake-up only delays this to the next poll."""
        await ChangeFollower(bus, self._replan_soon, "reminder clock").run()

    async def _replan_soon(self, _changes: list[Event]) -> None:
        self.scheduler.add_job(self.replan, DateTrigger(run_date=utcnow() + timedelta(seconds=0.2)),
                               id="reminders:replan-soon", replace_existing=True, misfire_grace_time=None)
