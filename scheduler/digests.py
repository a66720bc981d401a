"""Email digests: at the local time an account chose (daily, or weekly on a day), every receiving address of
that account that did not stop digests gets one email listing the contests that match the account's filters
and start before its next digest is due.

The plan (who is due when) is remade every minute from two queries; a wake at the earliest due moment sends
what fell due since the last wake. A digest is claimed just before it is sent by inserting its sent-log row,
unique per (address, period): two schedulers, or one restarted, never send a period twice. A period without
contests sends nothing. On start the clock looks back a few hours, so a digest due while the service was
down goes out late rather than not at all.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from models.account import DigestDelivery
from models.catalog import listed_sites
from models.contest import Contest
from models.selection import ContestFilter
from notify.channel import Batch, Channel, DeliveryStatus, Digest, Outgoing
from notify.digest import DigestSchedule, due_after, period_of, window_of
from notify.messages import ContestInfo, Locale
from notify.preferences import COLUMNS, BadPreferences, read_preferences
from scheduler.dispatch import rendered, send_with_retries
from scheduler.plan import SkippedAccounts, contest_info, selection_of, unpaused_accounts

log = logging.getLogger(__name__)

#: a digest due this long before the clock started still goes out (late)
LOOK_BACK = timedelta(hours=6)
REPLAN_EVERY = timedelta(seconds=60)
WAKE_JOB = "digests:wake"
DIGEST_COLUMNS = (*COLUMNS, "digest", "digest_weekday", "digest_minute")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DigestReader:
    """An account that gets digests: its schedule, filter and the addresses they go to."""

    account_id: int
    locale: Locale
    schedule: DigestSchedule
    selection: ContestFilter
    addresses: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class DueDigest:
    reader: DigestReader
    due: datetime
    period: str
    window: tuple[datetime, datetime]


async def digest_readers(channel: Channel, skipped: SkippedAccounts | None = None) -> list[DigestReader]:
    """Unpaused accounts with a digest and at least one address that takes digests (two queries)."""
    skipped = skipped or SkippedAccounts()
    reach = {account: tuple(a for a in addresses if getattr(a, "digests", True))
             for account, addresses in (await channel.reachable()).items()}
    readers = []
    for row in await unpaused_accounts(DIGEST_COLUMNS, digest__isnull=False):
        if not reach.get(row["id"]):
            continue
        schedule = DigestSchedule.from_account(row)
        if schedule is None:
            skipped.skip(row["id"], "its digest setting is out of range")
            continue
        try:
            settings = read_preferences(row)
        except BadPreferences as problem:
            skipped.skip(row["id"], str(problem))
            continue
        readers.append(DigestReader(settings.account_id, Locale(settings.language, settings.timezone), schedule,
                                    selection_of(settings), reach[row["id"]]))
    return readers


def next_digests(readers: Iterable[DigestReader], since: datetime) -> list[DueDigest]:
    """Each reader's first digest due after `since`."""
    found = []
    for reader in readers:
        due = due_after(reader.schedule, reader.locale.timezone, since)
        found.append(DueDigest(reader, due, period_of(reader.schedule, due, reader.locale.timezone),
                               window_of(reader.schedule, due, reader.locale.timezone)))
    return sorted(found, key=lambda digest: digest.due)


async def contests_between(start: datetime, end: datetime) -> list[ContestInfo]:
    await listed_sites()  # the site names `contest_info` uses
    rows = await Contest.filter(cancelled=False, start__gte=start, start__lt=end).order_by("start", "id")
    return [contest_info(row) for row in rows]


def listed(digest: DueDigest, contests: Sequence[ContestInfo]) -> tuple[ContestInfo, ...]:
    start, end = digest.window
    return tuple(c for c in contests if start <= c.start < end
                 and digest.reader.selection.matches(c.site, c.title, c.duration))


class DigestRun:
    """Sends due digests through a channel that carries them (email)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.stopping = False

    async def send(self, due: Sequence[DueDigest], now: datetime) -> dict[str, int]:
        """Claim and send the digests in chunks of the channel's batch size; empty ones are not sent."""
        counts = {"sent": 0, "failed": 0, "empty": 0, "taken": 0}
        if not due:
            return counts
        contests = await contests_between(min(d.window[0] for d in due), max(d.window[1] for d in due))
        parcels = []
        for digest in due:
            chosen = listed(digest, contests)
            if not chosen:
                counts["empty"] += 1
                continue
            batch = Batch(digest.reader.account_id, digest.reader.locale, Digest(chosen, digest.reader.schedule,
                                                                                   digest.due),
                          (), now)
            parcels += [(digest, address, batch) for address in digest.reader.addresses]
        size = max(1, self.channel.batch_size)
        for begin in range(0, len(parcels), size):
            if self.stopping:
                break
            await self._send_chunk(parcels[begin:begin + size], now, counts)
        return counts

    async def _send_chunk(self, parcels: list[tuple[DueDigest, Any, Batch]], now: datetime,
                          counts: dict[str, int]) -> None:
        token = str(uuid.uuid4())
        await DigestDelivery.bulk_create([
            DigestDelivery(account_id=digest.reader.account_id, address_id=address.id, period=digest.period,
                           due_at=digest.due, status=DeliveryStatus.CLAIMED, claimed_by=token, claimed_at=now)
            for digest, address, _ in parcels], ignore_conflicts=True)
        mine = {(address_id, period): row_id for row_id, address_id, period in
                await DigestDelivery.filter(claimed_by=token).values_list("id", "address_id", "period")}
        ready: list[tuple[int, Outgoing]] = []
        for digest, address, batch in parcels:
            row_id = mine.get((address.id, digest.period))
            if row_id is None:
                counts["taken"] += 1
                continue
            messages = rendered(self.channel, Batch(batch.account_id, batch.locale, batch.content, (address,),
                                                    batch.now))
            if messages:
                ready.append((row_id, messages[0]))
            else:
                await settle([row_id], DeliveryStatus.FAILED, "not rendered")
                counts["failed"] += 1
        results = await send_with_retries(self.channel, [message for _, message in ready])
        sent = [row_id for (row_id, _), result in zip(ready, results, strict=True) if result.sent]
        failed = [(row_id, result.error) for (row_id, _), result in zip(ready, results, strict=True)
                  if not result.sent]
        await settle(sent, DeliveryStatus.SENT)
        for row_id, error in failed:
            await settle([row_id], DeliveryStatus.FAILED, (error or "not delivered")[:500])
        counts["sent"] += len(sent)
        counts["failed"] += len(failed)


async def settle(ids: list[int], status: DeliveryStatus, error: str | None = None) -> None:
    if ids:
        await DigestDelivery.filter(id__in=ids).update(
            status=status, error=error, sent_at=utcnow() if status is DeliveryStatus.SENT else None)


async def report_interrupted_digests(started: datetime) -> int:
    stale = DigestDelivery.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=started)
    count = await stale.count()
    if count:
        await stale.update(status=DeliveryStatus.INTERRUPTED, error="the sender stopped after claiming")
        log.warning("%d digests were claimed by a run that stopped before sending them: not resent", count)
    return count


class DigestClock:
    """Wakes at the earliest due digest; the plan is remade every minute (settings change through the bot and
    the web). `now` is injectable, so tests move through days and daylight-saving changes without waiting."""

    def __init__(self, scheduler: AsyncIOScheduler | None, run: DigestRun, now: datetime | None = None) -> None:
        self.scheduler, self.run = scheduler, run
        self.watermark = (now or utcnow()) - LOOK_BACK  # every digest due up to here has been handled
        self.plan: list[DueDigest] = []
        self.skipped = SkippedAccounts()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await report_interrupted_digests(utcnow())
        if self.scheduler is not None:
            self.scheduler.add_job(self.replan, IntervalTrigger(seconds=REPLAN_EVERY.total_seconds(), timezone=UTC),
                                   id="digests:replan", replace_existing=True, coalesce=True, max_instances=1)
        await self.replan()

    async def stop(self) -> None:
        self.run.stopping = True
        async with self._lock:
            pass

    async def replan(self) -> None:
        async with self._lock:
            self.plan = next_digests(await digest_readers(self.run.channel, self.skipped), self.watermark)
            self._set_wake()

    async def wake(self, now: datetime | None = None) -> dict[str, int]:
        """Send every digest due in (watermark, now]."""
        async with self._lock:
            now = now or utcnow()
            due = [digest for digest in self.plan if digest.due <= now]
            counts = await self.run.send(due, now) if due and not self.run.stopping else {}
            if any(counts.values()):
                log.info("digests at %s: %s", now.isoformat(timespec="seconds"),
                         ", ".join(f"{key} {value}" for key, value in counts.items() if value))
            self.watermark = now
            self.plan = [digest for digest in self.plan if digest.due > now]
            self._set_wake()
            return counts

    def _set_wake(self) -> None:
        if self.scheduler is None or not self.plan:
            return
        self.scheduler.add_job(self.wake, DateTrigger(run_date=max(self.plan[0].due, utcnow()), timezone=UTC),
                               id=WAKE_JOB, replace_existing=True, misfire_grace_time=None, coalesce=True,
                               max_instances=1)
