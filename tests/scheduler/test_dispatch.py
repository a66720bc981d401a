"""The dispatcher on its own, table by table: which parcels a plan makes, what a claim takes (and what it leaves to
the run that was first), how many claims are ever open at once, and what each answer of a channel settles to.
The channel here is a channel of its own (the protocol is small), recording what it is given; the sent-log is
the real database."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from models.account import Account, Delivery
from models.contest import Contest
from notify.channel import (
    SENT,
    Batch,
    ChannelName,
    DeliveryKind,
    DeliveryStatus,
    Outgoing,
    Reminders,
    Result,
    failed,
    gone,
    retry_after,
)
from notify.messages import ContestInfo, Locale, Reminder
from scheduler.dispatch import Coalescer, Outcome, Parcel, ReminderRun, Row, Senders, SentLog, reminder_parcels
from scheduler.plan import Plan, PlanEntry, Subscriber

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BERLIN = Locale("en", "Europe/Berlin")


class Recorder:
    """A channel that answers from a script and notes how many of its messages were in flight at once."""

    name: ClassVar[ChannelName] = ChannelName.DISCORD

    def __init__(self, concurrency: int = 4, answers: Sequence[Result] = (), delay: float = 0.0,
                 batch_size: int = 1) -> None:
        self.concurrency, self.batch_size, self.delay = concurrency, batch_size, delay
        self.answers = list(answers)
        self.sent: list[Outgoing] = []
        self.in_flight = self.most_in_flight = 0
        self.open_claims: list[int] = []

    async def reachable(self) -> dict[int, tuple[str, ...]]:
        return {}

    def render(self, batch: Batch) -> list[Outgoing]:
        if "broken" in batch.addresses:
            raise RuntimeError("a bug in rendering")
        return [Outgoing(address, batch.content) for address in batch.addresses]

    async def send(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        self.in_flight += len(outgoing)
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.open_claims.append(await Delivery.filter(status="claimed").count())
        await asyncio.sleep(self.delay)
        self.in_flight -= len(outgoing)
        self.sent.extend(outgoing)
        return [self.answers.pop(0) if self.answers else SENT for _ in outgoing]


def info(contest: Contest) -> ContestInfo:
    return ContestInfo(contest.id, contest.site_id, contest.key, contest.title, contest.url, contest.start,
                       contest.duration)


async def contests(count: int, start: datetime = NOW + timedelta(hours=1)) -> list[ContestInfo]:
    made = []
    for n in range(count):
        made.append(info(await Contest.create(site_id="codeforces", key=f"d{n}", title=f"Round {n}",
                                              url=f"https://codeforces.com/contest/{n}", start=start,
                                              end=start + timedelta(hours=2), duration=7200)))
    return made


async def people(count: int, channels: Sequence[ChannelName] = (ChannelName.DISCORD,)) -> list[Subscriber]:
    await Account.bulk_create([Account() for _ in range(count)])
    ids = await Account.all().order_by("id").values_list("id", flat=True)
    return [Subscriber(i, BERLIN, {name: (f"{name}-{i}",) for name in channels}) for i in ids]


def plan_of(subscribers: Sequence[Subscriber], entries: Sequence[PlanEntry]) -> Plan:
    return Plan(list(entries), {s.account_id: s for s in subscribers})


# which parcels a plan makes (no database needed)


def subscriber(account_id: int, *channels: ChannelName) -> Subscriber:
    return Subscriber(account_id, BERLIN, {name: (f"{name}-{account_id}",) for name in channels})


CONTEST_A = ContestInfo(1, "codeforces", "1", "A", "https://a", NOW + timedelta(hours=1), 7200)
CONTEST_B = ContestInfo(2, "codeforces", "2", "B", "https://b", NOW + timedelta(hours=1), 7200)
STARTED = ContestInfo(3, "codeforces", "3", "C", "https://c", NOW - timedelta(minutes=1), 7200)
TG, MAIL = ChannelName.TELEGRAM, ChannelName.EMAIL


@pytest.mark.parametrize(("entries", "started", "expected"), [
    pytest.param([(CONTEST_A, 3600, [(1, TG)])], False, {(1, TG): [1]}, id="one contest, one channel"),
    pytest.param([(CONTEST_A, 3600, [(1, TG, MAIL)])], False, {(1, TG): [1], (1, MAIL): [1]}, id="two channels"),
    pytest.param([(CONTEST_A, 3600, [(1, TG)]), (CONTEST_B, 3600, [(1, TG)])], False, {(1, TG): [2]},
                 id="due together: one message"),
    pytest.param([(CONTEST_A, 3600, [(1, TG)]), (CONTEST_A, 600, [(1, TG)])], False, {(1, TG): [1, 1]},
                 id="another offset is another moment"),
    pytest.param([(CONTEST_A, 3600, [(1, TG), (2, MAIL)])], False, {(1, TG): [1], (2, MAIL): [1]}, id="two people"),
    pytest.param([(STARTED, 3600, [(1, TG)])], False, {}, id="started: not sent"),
    pytest.param([(STARTED, 3600, [(1, TG)]), (CONTEST_A, 3600, [(1, TG)])], True, {(1, TG): [1]},
                 id="started: logged as skipped"),
    pytest.param([(CONTEST_A, 3600, [(1,)])], False, {}, id="no channel reaches the account"),
])
def test_reminder_parcels(entries, started, expected):
    subscribers = {}
    plan_entries = []
    for contest, offset, members in entries:
        made = [subscribers.setdefault(account, subscriber(account, *names)) for account, *names in members]
        plan_entries.append(PlanEntry(contest.start - timedelta(seconds=offset), contest, offset, tuple(made)))
    parcels = reminder_parcels(Plan(plan_entries, subscribers), plan_entries, NOW, started=started)
    found: dict[tuple[int, ChannelName], list[int]] = {}
    for parcel in parcels:
        assert len(parcel.rows) == len(parcel.batch.content.items)
        assert parcel.batch.addresses == subscribers[parcel.account_id].addresses[parcel.channel]
        found.setdefault((parcel.account_id, parcel.channel), []).append(len(parcel.rows))
    assert found == expected


def test_a_late_reminder_says_so():
    entry = PlanEntry(NOW - timedelta(minutes=5), CONTEST_A, 3600, (subscriber(1, TG),))
    [parcel] = reminder_parcels(Plan([entry], {1: entry.subscribers[0]}), [entry], NOW, started=False)
    assert parcel.batch.content.items[0].late


# what a claim takes


def parcel(account_id: int, contest: ContestInfo, channel: ChannelName = ChannelName.DISCORD,
           planned_id: int | None = None, kind: DeliveryKind = DeliveryKind.REMINDER) -> Parcel:
    row = Row(contest.id, kind, 600, contest.start, NOW, planned_id)
    batch = Batch(account_id, BERLIN, Reminders((Reminder(contest, 600),)), (f"{channel}-{account_id}",), NOW)
    return Parcel(channel, batch, (row,))


@pytest.mark.parametrize(("existing", "mine"), [
    pytest.param(None, True, id="nothing yet: claimed"),
    pytest.param("sent", False, id="sent by another run"),
    pytest.param("claimed", False, id="claimed by another run"),
    pytest.param("skipped", False, id="logged as skipped"),
    pytest.param("interrupted", False, id="cut off by a crash: never resent"),
])
async def test_a_claim_takes_only_rows_nobody_wrote(db, existing, mine):
    [contest] = await contests(1)
    [person] = await people(1)
    if existing:
        await Delivery.create(account_id=person.account_id, contest_id=contest.id, channel="discord",
                              kind="reminder", offset_seconds=600, contest_start=contest.start, due_at=NOW,
                              status=existing)
    claimed, ids = await SentLog().claim(parcel(person.account_id, contest))
    assert bool(ids) is mine and len(claimed.rows) == int(mine)


@pytest.mark.parametrize(("status", "mine"), [("planned", True), ("claimed", False), ("sent", False)])
async def test_a_snoozed_reminder_is_claimed_by_moving_it_from_planned(db, status, mine):
    [contest] = await contests(1)
    [person] = await people(1)
    row = await Delivery.create(account_id=person.account_id, contest_id=contest.id, channel="discord",
                                kind="snooze", offset_seconds=0, contest_start=contest.start, due_at=NOW,
                                status=status)
    _, ids = await SentLog().claim(parcel(person.account_id, contest, planned_id=row.id, kind=DeliveryKind.SNOOZE))
    assert ids == ([row.id] if mine else [])


async def test_two_runs_claiming_the_same_parcels_at_once_split_them(db):
    some = await contests(3)
    persons = await people(20)
    parcels = [parcel(p.account_id, c) for p in persons for c in some]
    first, second = SentLog(), SentLog()
    claims = await asyncio.gather(*(log.claim(p) for p in parcels for log in (first, second)))
    mine = Counter(len(ids) for _, ids in claims)
    assert mine == {1: 60, 0: 60}  # each row claimed by exactly one of them
    assert await Delivery.all().count() == 60


async def test_claims_arriving_together_share_one_flush():
    flushes: list[int] = []

    async def flush(items: list[int]) -> list[int]:
        flushes.append(len(items))
        await asyncio.sleep(0.01)
        return [item * 2 for item in items]

    together = Coalescer(flush)
    assert await asyncio.gather(*(together.submit(n) for n in range(50))) == [n * 2 for n in range(50)]
    assert sum(flushes) == 50 and len(flushes) <= 2


async def test_a_failing_flush_fails_its_callers_and_the_next_flush_works():
    calls = 0

    async def flush(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")
        return items

    together = Coalescer(flush)
    with pytest.raises(ConnectionError):
        await together.submit(1)
    assert await together.submit(2) == 2


# sending and settling


@pytest.mark.parametrize(("answers", "status", "error"), [
    pytest.param([SENT], "sent", None, id="sent"),
    pytest.param([retry_after(0.05, "wait"), SENT], "sent", None, id="retry after a short wait"),
    pytest.param([retry_after(3600, "wait an hour")], "failed", "wait an hour", id="a long wait is not waited"),
    pytest.param([gone("blocked")], "failed", "blocked", id="address gone"),
    pytest.param([failed("400 bad")], "failed", "400 bad", id="failed"),
])
async def test_what_each_answer_settles_to(db, answers, status, error):
    [contest] = await contests(1)
    [person] = await people(1)
    channel = Recorder(answers=answers)
    outcome = Outcome()
    await Senders([channel]).deliver([parcel(person.account_id, contest)], outcome)
    row = await Delivery.get(account_id=person.account_id)
    assert (row.status, row.error) == (status, error)
    assert outcome[DeliveryStatus(status)] == 1 and (row.sent_at is not None) == (status == "sent")


async def test_a_render_failure_costs_that_account_only(db):
    [contest] = await contests(1)
    first, second = await people(2)
    channel = Recorder()
    broken = parcel(first.account_id, contest)
    broken.batch = Batch(first.account_id, BERLIN, broken.batch.content, ("broken",), NOW)
    await Senders([channel]).deliver([broken, parcel(second.account_id, contest)], Outcome())
    assert (await Delivery.get(account_id=first.account_id)).error == "not rendered"
    assert (await Delivery.get(account_id=second.account_id)).status == "sent" and len(channel.sent) == 1


async def test_no_more_claims_are_open_than_the_channel_sends_at_once(db):
    some = await contests(2)
    persons = await people(120)
    channel = Recorder(concurrency=8, delay=0.005)
    parcels = [parcel(p.account_id, c) for p in persons for c in some]
    outcome = Outcome()
    await Senders([channel]).deliver(parcels, outcome)
    assert outcome[DeliveryStatus.SENT] == 240 and len(channel.sent) == 240
    assert channel.most_in_flight <= 8 and max(channel.open_claims) <= 8


async def test_stopping_finishes_what_is_claimed_and_claims_no_more(db):
    some = await contests(1)
    persons = await people(100)
    channel = Recorder(concurrency=4, delay=0.01)
    run = ReminderRun([channel])
    parcels = [parcel(p.account_id, c) for p in persons for c in some]
    delivering = asyncio.create_task(run.senders.deliver(parcels, Outcome()))
    while len(channel.sent) < 10:
        await asyncio.sleep(0.005)
    run.stop()
    await delivering
    statuses = Counter(await Delivery.all().values_list("status", flat=True))
    assert set(statuses) == {"sent"} and statuses["sent"] == len(channel.sent) < 100
