"""Sending what falls due, through every channel, each reached only through the channel protocol
(notify/channel.py): the dispatcher never names one.

Every message is a `Parcel`: one batch (what one account gets through one channel at one moment) and the
sent-log rows it stands for. A parcel is claimed just before it is sent, by inserting its rows (a unique row
per account, contest, channel, kind, offset and start; a snoozed reminder's planned row moves to claimed):
what another run inserted first is not ours and is not sent. Each channel has a fixed number of senders
(its `concurrency`); a sender claims a parcel, sends it, settles its rows, and only then takes the next. So
at any moment at most `concurrency` parcels per channel are claimed and not settled: a SIGKILL costs at most
those (reported as `interrupted` on the next start, never resent), and everything not yet claimed goes out
after the restart. On SIGTERM (`stop`) the senders finish the parcel in hand and take no more.

Claims and settlements of all senders are gathered into one statement per flush (a group commit), so a
fan-out of thousands costs a few statements per batch of messages, not a few per message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import sentry_sdk

from models.account import Delivery
from models.contest import ChangeKind, ContestChange
from models.metrics import DELIVERIES, REMINDER_LATENESS, REMINDERS_LATE
from notify.channel import (
    Batch,
    Channel,
    ChannelName,
    Content,
    DeliveryKind,
    DeliveryStatus,
    Outgoing,
    Reminders,
    Result,
    Verdict,
)
from notify.messages import Notice, Reminder
from scheduler.plan import Plan, PlanEntry, Snoozed, Subscriber, contest_info

log = logging.getLogger(__name__)

#: a reminder sent this long after its due moment says it is late
LATE_AFTER = timedelta(seconds=60)
#: rows per INSERT or UPDATE statement
BATCH = 1000
#: the changes that those already reminded are told of
NOTICED = {ChangeKind.RESCHEDULED: DeliveryKind.MOVED, ChangeKind.CANCELLED: DeliveryKind.CANCELLED}
#: a message whose address asks to wait is tried again this many times, if the wait is at most RETRY_WAIT_MOST
RETRIES = 3
RETRY_WAIT_MOST = 10.0
#: a snoozed reminder this close to another reminder of its contest for the same chat is not sent (it would be twice)
SNOOZE_NEAR = timedelta(minutes=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Row:
    """One sent-log row a parcel stands for: a reminder, snooze or notice of one contest."""

    contest_id: int
    kind: DeliveryKind
    offset: int
    contest_start: datetime
    due: datetime
    planned_id: int | None = None  # a snoozed reminder's row, waiting as `planned`


@dataclass(slots=True)
class Parcel:
    """One batch for one channel and the rows it stands for (`rows[i]` makes `reminders[i]` of a reminder)."""

    channel: ChannelName
    batch: Batch
    rows: tuple[Row, ...]

    @property
    def account_id(self) -> int:
        return self.batch.account_id

    def only(self, mine: Sequence[int]) -> Parcel:
        """This parcel cut down to the rows at `mine` (the ones this run claimed)."""
        content = self.batch.content
        if isinstance(content, Reminders):
            content = Reminders(tuple(content.items[i] for i in mine))
        return Parcel(self.channel, replace(self.batch, content=content), tuple(self.rows[i] for i in mine))


@dataclass(slots=True)
class Outcome:
    """What became of the rows a run handled."""

    counts: Counter[DeliveryStatus] = field(default_factory=Counter)

    def add(self, status: DeliveryStatus, rows: int = 1) -> None:
        self.counts[status] += rows

    def __getitem__(self, status: DeliveryStatus) -> int:
        return self.counts[status]


T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Runs `flush` over the items submitted while the previous flush ran: every caller waits for its own
    result, and a burst of callers costs one flush (a group commit)."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._flush = flush
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            taken, self._waiting = self._waiting, []
            try:
                results = await self._flush([item for item, _ in taken])
            except Exception as error:  # each waiting caller gets the error
                for _, future in taken:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(result)


class SentLog:
    """Claims and settles sent-log rows for every sender of a run, a statement per flush."""

    def __init__(self) -> None:
        self._claims: Coalescer[Parcel, list[int]] = Coalescer(self._claim)
        self._settles: Coalescer[tuple[list[int], DeliveryStatus, str | None], None] = Coalescer(self._settle)
        self._ids: dict[int, list[int]] = {}

    async def claim(self, parcel: Parcel) -> tuple[Parcel, list[int]]:
        """The part of the parcel this run claimed (maybe empty) and the ids of its rows."""
        mine = await self._claims.submit(parcel)
        indexes = [i for i, row_id in enumerate(mine) if row_id]
        return parcel.only(indexes), [mine[i] for i in indexes]

    async def settle(self, ids: list[int], status: DeliveryStatus, error: str | None = None) -> None:
        if ids:
            await self._settles.submit((ids, status, error))

    async def _claim(self, parcels: list[Parcel]) -> list[list[int]]:
        token, now = str(uuid.uuid4()), utcnow()
        new = [(parcel.account_id, row.contest_id, str(parcel.channel), str(row.kind), row.offset, row.contest_start,
                row.due) for parcel in parcels for row in parcel.rows if row.planned_id is None]
        planned = [row.planned_id for parcel in parcels for row in parcel.rows if row.planned_id is not None]
        claimed = await insert_claimed(new, token, now) if new else []
        if planned:
            await Delivery.filter(id__in=planned, status=DeliveryStatus.PLANNED).update(
                status=DeliveryStatus.CLAIMED, claimed_by=token, claimed_at=now)
            claimed += [(row_id, "planned", row_id) for row_id in await Delivery.filter(
                claimed_by=token, id__in=planned).values_list("id", flat=True)]
        ids = {tuple(key): row_id for row_id, *key in claimed}
        return [[ids.get(row_key(parcel, row), 0) for row in parcel.rows] for parcel in parcels]

    async def _settle(self, items: list[tuple[list[int], DeliveryStatus, str | None]]) -> list[None]:
        now = utcnow()
        grouped: dict[tuple[DeliveryStatus, str | None], list[int]] = defaultdict(list)
        for ids, status, error in items:
            grouped[status, error].extend(ids)
        for (status, error), ids in grouped.items():
            await mark(ids, status, now, error)
        return [None] * len(items)


def row_key(parcel: Parcel, row: Row) -> tuple[object, ...]:
    """How a claimed row is found again among those a flush claimed."""
    if row.planned_id is not None:
        return ("planned", row.planned_id)
    return (parcel.account_id, row.contest_id, parcel.channel, row.kind, row.offset)


NewRow = tuple[int, int, str, str, int, datetime, datetime]  # account, contest, channel, kind, offset, start, due

#: PostgreSQL: the rows in, and back those this statement inserted (a row another run wrote first is left out)
CLAIM_SQL = """
INSERT INTO delivery (account_id, contest_id, channel, kind, offset_seconds, contest_start, due_at, status,
                      claimed_by, claimed_at)
SELECT account_id, contest_id, channel, kind, offset_seconds, contest_start, due_at, 'claimed', $8, $9
FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[])
     AS new (account_id, contest_id, channel, kind, offset_seconds, contest_start, due_at)
ON CONFLICT DO NOTHING
RETURNING id, account_id, contest_id, channel, kind, offset_seconds
"""


async def insert_claimed(rows: list[NewRow], token: str, now: datetime) -> list[tuple[object, ...]]:
    """Insert the rows as claimed by `token`, skipping any that exist; the ones inserted, with their ids first.
    On PostgreSQL one statement does it all; elsewhere an INSERT, then a SELECT of the token's rows."""
    db = Delivery._meta.db
    if db.capabilities.dialect == "postgres":
        columns = [list(column) for column in zip(*rows, strict=True)]
        found = await db.execute_query_dict(CLAIM_SQL, [*columns, token, now])  # fetches what RETURNING gives
        return [tuple(record.values()) for record in found]
    await Delivery.bulk_create([
        Delivery(account_id=account, contest_id=contest, channel=channel, kind=kind, offset_seconds=offset,
                 contest_start=start, due_at=due, status=DeliveryStatus.CLAIMED, claimed_by=token, claimed_at=now)
        for account, contest, channel, kind, offset, start, due in rows], ignore_conflicts=True, batch_size=BATCH)
    return list(await Delivery.filter(claimed_by=token).values_list(
        "id", "account_id", "contest_id", "channel", "kind", "offset_seconds"))


async def mark(ids: Sequence[int], status: DeliveryStatus, now: datetime, error: str | None = None) -> None:
    for begin in range(0, len(ids), BATCH):
        await Delivery.filter(id__in=ids[begin:begin + BATCH]).update(
            status=status, sent_at=now if status is DeliveryStatus.SENT else None, error=error)


async def record_skipped(parcels: Sequence[Parcel]) -> int:
    """Reminders of contests that started before they could go out: logged as skipped (nothing is sent), so
    they are counted once, by whichever run writes them first."""
    now = utcnow()
    rows = [Delivery(account_id=parcel.account_id, contest_id=row.contest_id, channel=parcel.channel, kind=row.kind,
                     offset_seconds=row.offset, contest_start=row.contest_start, due_at=row.due,
                     status=DeliveryStatus.SKIPPED, claimed_at=now)
            for parcel in parcels for row in parcel.rows]
    if rows:
        await Delivery.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    for parcel in parcels:
        count_settled(parcel, DeliveryStatus.SKIPPED, now)
    return len(rows)


def rendered(channel: Channel, batch: Batch) -> list[Outgoing] | None:
    """The batch's messages, or None when making them failed: a bug of ours, reported once to the log and
    Sentry, that costs that account this message and nobody else theirs."""
    try:
        return channel.render(batch)
    except Exception as error:
        log.exception("could not render a %s message for account %d", channel.name, batch.account_id,
                      extra={"account_id": batch.account_id})
        sentry_sdk.capture_exception(error)
        return None


class Senders:
    """Sends parcels through their channels: `concurrency` senders per channel, each holding at most one
    claimed parcel at a time."""

    def __init__(self, channels: Iterable[Channel]) -> None:
        self.channels = {channel.name: channel for channel in channels}
        self.stopping = False

    async def deliver(self, parcels: Iterable[Parcel], outcome: Outcome) -> None:
        queues: dict[ChannelName, list[Parcel]] = defaultdict(list)
        for parcel in parcels:
            if parcel.channel in self.channels:
                queues[parcel.channel].append(parcel)
        sent_log = SentLog()
        await asyncio.gather(*(self._through(self.channels[name], queue, sent_log, outcome)
                               for name, queue in queues.items()))

    async def _through(self, channel: Channel, queue: list[Parcel], sent_log: SentLog, outcome: Outcome) -> None:
        queue.reverse()  # popped from the end: first in, first out

        async def sender() -> None:
            while queue and not self.stopping:
                taken = [queue.pop() for _ in range(min(channel.batch_size, len(queue)))]
                await self._send(channel, taken, sent_log, outcome)

        await asyncio.gather(*(sender() for _ in range(min(channel.concurrency, len(queue)))))

    async def _send(self, channel: Channel, taken: list[Parcel], sent_log: SentLog, outcome: Outcome) -> None:
        claimed = [claim for claim in await asyncio.gather(*(sent_log.claim(p) for p in taken)) if claim[1]]
        outcome.add(DeliveryStatus.SKIPPED, sum(len(p.rows) for p in taken) - sum(len(ids) for _, ids in claimed))
        ready: list[tuple[Parcel, list[int], list[Outgoing]]] = []
        for parcel, ids in claimed:
            messages = rendered(channel, parcel.batch)
            if messages is None:
                await self._settle(sent_log, parcel, ids, [], outcome)
            else:
                ready.append((parcel, ids, messages))
        results = await send_with_retries(channel, [m for _, _, messages in ready for m in messages])
        for parcel, ids, messages in ready:
            mine, results = results[:len(messages)], results[len(messages):]
            await self._settle(sent_log, parcel, ids, mine, outcome)

    @staticmethod
    async def _settle(sent_log: SentLog, parcel: Parcel, ids: list[int], results: Sequence[Result],
                      outcome: Outcome) -> None:
        if any(result.sent for result in results):
            status, error = DeliveryStatus.SENT, None
        else:
            status = DeliveryStatus.FAILED
            error = next((r.error for r in results if r.error), "not rendered" if not results else "not delivered")
        await sent_log.settle(ids, status, error and error[:500])
        outcome.add(status, len(ids))
        count_settled(parcel, status, utcnow())


#: the kinds of row that fall due at a moment of their own (a notice is due when its change is noticed)
TIMED = (DeliveryKind.REMINDER, DeliveryKind.SNOOZE)


def count_settled(parcel: Parcel, status: DeliveryStatus, now: datetime) -> None:
    """The metrics of a parcel's settled rows: one count per row, and how late each reminder went out."""
    for row in parcel.rows:
        DELIVERIES.labels(parcel.channel, row.kind, status).inc()
        if status is DeliveryStatus.SENT and row.kind in TIMED:
            REMINDER_LATENESS.labels(parcel.channel).observe(max(0.0, (now - row.due).total_seconds()))
            if now - row.due > LATE_AFTER:
                REMINDERS_LATE.labels(parcel.channel).inc()


async def send_with_retries(channel: Channel, outgoing: list[Outgoing]) -> list[Result]:
    """Send, then send again what asked to wait (a short while, a few times): the claim is held meanwhile."""
    results = await channel.send(outgoing) if outgoing else []
    for _ in range(RETRIES):
        again = [i for i, r in enumerate(results) if r.verdict is Verdict.RETRY and r.retry_after <= RETRY_WAIT_MOST]
        if not again:
            break
        await asyncio.sleep(max(results[i].retry_after for i in again))
        for i, result in zip(again, await channel.send([outgoing[i] for i in again]), strict=True):
            results[i] = result
    return results


class ReminderRun:
    """Turns what fell due into parcels for every channel and sends them."""

    def __init__(self, channels: Sequence[Channel]) -> None:
        self.channels = list(channels)
        self.senders = Senders(self.channels)

    def stop(self) -> None:
        """SIGTERM: finish the parcels in hand, claim no more (the rest goes out after the restart)."""
        self.senders.stopping = True

    async def remind(self, plan: Plan, entries: list[PlanEntry], now: datetime) -> Outcome:
        outcome = Outcome()
        started = reminder_parcels(plan, entries, now, started=True)
        if started:
            outcome.add(DeliveryStatus.SKIPPED, await record_skipped(started))
            log.warning("%d reminders skipped: their contests started while we were down", outcome[
                DeliveryStatus.SKIPPED])
        await self.senders.deliver(reminder_parcels(plan, entries, now, started=False), outcome)
        return outcome

    async def notify_changes(self, plan: Plan, after_id: int, through_id: int, now: datetime) -> Outcome:
        """Tell those already reminded of a contest that it moved or was cancelled (once per change): the changes
        with ids in (after_id, through_id], the change stream's order (fetchers/changes.py)."""
        outcome = Outcome()
        changes = await ContestChange.filter(
            kind__in=list(NOTICED), id__gt=after_id, id__lte=through_id).select_related("contest").order_by("id")
        for change in changes:
            await self.senders.deliver(await notice_parcels(plan, change, now), outcome)
        return outcome

    async def send_snoozed(self, plan: Plan, snoozed: list[Snoozed], now: datetime) -> Outcome:
        """Snoozed reminders that fell due: claimed by moving them from planned to claimed. Those too late, of an
        account no longer planned, or close to another reminder of the contest are skipped instead."""
        outcome = Outcome()
        late = [s for s in snoozed if s.account_id not in plan.subscribers or too_late(s, now)]
        twice = await near_other_reminders(plan, [s for s in snoozed if s not in late])
        await skip_snoozed(late, "too late")
        await skip_snoozed(twice, "another reminder of the contest comes within 2 minutes")
        outcome.add(DeliveryStatus.SKIPPED, len(late) + len(twice))
        await self.senders.deliver(snoozed_parcels(plan, [s for s in snoozed if s not in late + twice], now),
                                   outcome)
        return outcome


def batch_for(subscriber: Subscriber, channel: ChannelName, content: Content, now: datetime) -> Batch:
    return Batch(subscriber.account_id, subscriber.locale, content, subscriber.addresses[channel], now)


def reminder_parcels(plan: Plan, entries: Iterable[PlanEntry], now: datetime, *, started: bool) -> list[Parcel]:
    """One parcel per account, channel and moment, holding every contest due for it then; `started` picks the
    contests that already started (to be logged as skipped) or those still ahead (to be sent)."""
    gathered: dict[tuple[int, datetime], list[tuple[Row, Reminder]]] = defaultdict(list)
    for entry in entries:
        if (entry.contest.start <= now) != started:
            continue
        row = Row(entry.contest.id, DeliveryKind.REMINDER, entry.offset, entry.contest.start, entry.due)
        reminder = Reminder(entry.contest, entry.offset, late=now - entry.due > LATE_AFTER)
        for subscriber in entry.subscribers:
            gathered[subscriber.account_id, entry.due].append((row, reminder))
    parcels = []
    for (account_id, _due), items in gathered.items():
        subscriber = plan.subscribers[account_id]
        content = Reminders(tuple(reminder for _, reminder in items))
        rows = tuple(row for row, _ in items)
        parcels += [Parcel(name, batch_for(subscriber, name, content, now), rows) for name in subscriber.addresses]
    return parcels


async def notice_parcels(plan: Plan, change: ContestChange, now: datetime) -> list[Parcel]:
    """A parcel for each channel of each account that was sent a reminder of the contest at its old start."""
    kind = NOTICED[ChangeKind(change.kind)]
    reminded_start = change.old_start if change.old_start is not None else change.contest.start
    reminded = await Delivery.filter(kind=DeliveryKind.REMINDER, status=DeliveryStatus.SENT,
                                     contest_id=change.contest_id,
                                     contest_start=reminded_start).values_list("account_id", flat=True)
    notice = Notice(kind.value, contest_info(change.contest), change.old_start)
    row = Row(change.contest_id, kind, 0, change.contest.start, now)
    return [Parcel(name, batch_for(plan.subscribers[account], name, notice, now), (row,))
            for account in sorted(set(reminded)) if account in plan.subscribers
            for name in plan.subscribers[account].addresses]


def too_late(snoozed: Snoozed, now: datetime) -> bool:
    """A snoozed reminder goes out before its contest starts; one asked for the start itself (due at or after the
    start as now known) goes out until LATE_AFTER past the start."""
    start = snoozed.contest.start
    return now > start + LATE_AFTER if snoozed.due >= start else now >= start


async def near_other_reminders(plan: Plan, snoozed: Sequence[Snoozed]) -> list[Snoozed]:
    """The snoozed reminders that would arrive within SNOOZE_NEAR of another reminder of their contest for the same
    account and channel: one still planned (the plan), one sent or being sent (the sent-log), or a snooze due
    together with it (the earlier one is kept)."""
    if not snoozed:
        return []
    nearby = await Delivery.filter(
        account_id__in={s.account_id for s in snoozed}, contest_id__in={s.contest.id for s in snoozed},
        kind__in=list(TIMED), status__in=[DeliveryStatus.SENT, DeliveryStatus.CLAIMED],
        due_at__gte=min(s.due for s in snoozed) - SNOOZE_NEAR, due_at__lte=max(s.due for s in snoozed) + SNOOZE_NEAR,
    ).values_list("account_id", "contest_id", "channel", "due_at")
    others = [(account, contest, channel, due) for account, contest, channel, due in nearby]
    near: list[Snoozed] = []
    for item in sorted(snoozed, key=lambda s: (s.due, s.delivery_id)):
        if plan.reminds_near(item.account_id, item.contest.id, item.due, SNOOZE_NEAR) or any(
                (account, contest, channel) == (item.account_id, item.contest.id, item.channel)
                and abs(due - item.due) <= SNOOZE_NEAR for account, contest, channel, due in others):
            near.append(item)
        else:
            others.append((item.account_id, item.contest.id, item.channel, item.due))
    return near


async def skip_snoozed(snoozed: Sequence[Snoozed], reason: str) -> None:
    if snoozed:
        await Delivery.filter(id__in=[s.delivery_id for s in snoozed], status=DeliveryStatus.PLANNED).update(
            status=DeliveryStatus.SKIPPED, error=reason)


def snoozed_parcels(plan: Plan, snoozed: Iterable[Snoozed], now: datetime) -> list[Parcel]:
    parcels = []
    for item in snoozed:
        subscriber = plan.subscribers.get(item.account_id)
        if subscriber is None or too_late(item, now) or item.channel not in subscriber.addresses:
            continue
        row = Row(item.contest.id, DeliveryKind.SNOOZE, 0, item.contest.start, item.due, planned_id=item.delivery_id)
        content = Reminders((Reminder(item.contest, 0),))
        parcels.append(Parcel(item.channel, batch_for(subscriber, item.channel, content, now), (row,)))
    return parcels


async def report_interrupted(started: datetime) -> int:
    """Rows claimed before this (leading) scheduler started were cut off by a crash: marked `interrupted` and
    counted in the log, never resent (they may have gone out just before the crash)."""
    stale = Delivery.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=started)
    count = await stale.count()
    if count:
        await stale.update(status=DeliveryStatus.INTERRUPTED,
                           error="the sender stopped after claiming; maybe not sent")
        log.warning("%d reminders were claimed by a run that stopped before sending them: not resent", count)
    return count


def describe(outcomes: Iterable[Outcome]) -> str:
    return ", ".join(f"{status} {count}" for outcome in outcomes for status, count in outcome.counts.items()
                     if count)

