"""Ingest: apply one successful fetch to the database and say what changed.

Set-based: one read of the site's known contests, one batched upsert, at most two updates for contests
that went missing, one batched insert of change records. A contest is cancelled (never deleted) only
when it is still in the future and two successful fetches in a row did not list it. A fetch that lists
far fewer upcoming contests than the database knows is refused as a failure and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from fetchers.contest import Contest as Fetched
from fetchers.http import FetchError
from models.contest import ChangeKind, Contest, ContestChange

#: fetches in a row that must miss a future contest before it counts as cancelled
MISSES_TO_CANCEL = 2
BATCH = 500
#: the PostgreSQL advisory lock that orders the change stream (any number no other lock of ours uses)
CHANGE_STREAM_LOCK = 0x63_62_63_68
_KNOWN_FIELDS = ("id", "key", "title", "url", "start", "duration", "kind", "details", "cancelled", "misses")
_UPDATED_FIELDS = ["title", "url", "start", "end", "duration", "kind", "details", "cancelled", "misses",
                   "updated_at"]


class ShrunkFetch(FetchError):
    """The site suddenly lists far fewer upcoming contests than we know: treated as a failed fetch."""


@dataclass(slots=True)
class Known:
    """A stored contest as ingest compares it (a plain row, not a model instance: it is read in bulk)."""

    id: int
    key: str
    title: str
    url: str
    start: datetime
    duration: int
    kind: str | None
    details: dict[str, Any] | None
    cancelled: bool
    misses: int


@dataclass(slots=True)
class Change:
    kind: ChangeKind
    key: str
    old: Known | None = None
    new: Fetched | None = None


@dataclass(slots=True)
class IngestReport:
    site: str
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    #: contests the answer listed that ended before the kept window (CONTESTBELL_KEEP_PAST_DAYS): not stored
    too_old: int = 0

    def keys(self, kind: ChangeKind) -> list[str]:
        return [change.key for change in self.changes if change.kind is kind]

    def summary(self) -> dict[str, Any]:
        """What `contestbell ingest` and `fetch` print: keys per change kind, the unchanged count, and how many
        were too old to keep (only when some were)."""
        result: dict[str, Any] = {kind.value: self.keys(kind) for kind in ChangeKind}
        result["unchanged"] = self.unchanged
        if self.too_old:
            result["too_old"] = self.too_old
        return result

    def summary_line(self) -> str:
        counts = [f"{len(self.keys(kind))} {kind}" for kind in ChangeKind if self.keys(kind)]
        too_old = [f"{self.too_old} too old to keep"] if self.too_old else []
        return ", ".join([*counts, f"{self.unchanged} unchanged", *too_old])


def refuse_if_shrunk(known: Iterable[Known], fetched: Sequence[Fetched], now: datetime) -> None:
    """Raise ShrunkFetch when fewer than half of the known upcoming contests are listed (2 or more known)."""
    known_upcoming = sum(1 for k in known if k.start > now and not k.cancelled)
    fetched_upcoming = sum(1 for c in fetched if c.start > now)
    if known_upcoming >= 2 and fetched_upcoming * 2 < known_upcoming:
        raise ShrunkFetch(
            f"the site lists {fetched_upcoming} upcoming contests where {known_upcoming} were known; "
            "refusing it as a broken answer", "too few contests"
        )


def compare(known: Known, fetched: Fetched) -> list[ChangeKind]:
    kinds = []
    if known.cancelled:
        kinds.append(ChangeKind.RESTORED)
    if known.start != fetched.start:
        kinds.append(ChangeKind.RESCHEDULED)
    if known.title != fetched.title:
        kinds.append(ChangeKind.RENAMED)
    if known.duration != fetched.duration:
        kinds.append(ChangeKind.EXTENDED)
    return kinds


def needs_write(known: Known, fetched: Fetched) -> bool:
    return (
        known.misses != 0 or known.cancelled or known.start != fetched.start or known.title != fetched.title
        or known.duration != fetched.duration or known.url != fetched.url or known.kind != fetched.kind
        or known.details != fetched.details
    )


def unique_by_key(contests: Iterable[Fetched]) -> dict[str, Fetched]:
    """The fetched contests by key; a site that lists one contest twice keeps its first row."""
    by_key: dict[str, Fetched] = {}
    for contest in contests:
        by_key.setdefault(contest.key, contest)
    return by_key


async def load_known(site: str) -> dict[str, Known]:
    rows = await Contest.filter(site_id=site).values_list(*_KNOWN_FIELDS)
    return {row[1]: Known(*row) for row in rows}


async def ingest(site: str, contests: Sequence[Fetched], now: datetime) -> IngestReport:
    """Apply a successful fetch of `site` (its Site row must exist) as seen at `now`."""
    fetched = unique_by_key(contests)
    async with in_transaction():
        known = await load_known(site)
        refuse_if_shrunk(known.values(), list(fetched.values()), now)
        report = IngestReport(site)
        to_write: list[Fetched] = []
        for key, contest in fetched.items():
            old = known.get(key)
            if old is None:
                report.changes.append(Change(ChangeKind.NEW, key, new=contest))
                to_write.append(contest)
                continue
            kinds = compare(old, contest)
            report.changes.extend(Change(kind, key, old, contest) for kind in kinds)
            report.unchanged += not kinds
            if needs_write(old, contest):
                to_write.append(contest)
        await upsert(site, to_write)
        report.changes.extend(await count_misses(known, fetched, now))
        await record_changes(site, report.changes, now)
    return report


async def upsert(site: str, contests: Sequence[Fetched]) -> None:
    """Insert or update; `updated_at` (auto_now: the wall clock) says when the row was last written, and feeds
    use it as the event's revision."""
    rows = [
        Contest(site_id=site, key=c.key, title=c.title, url=c.url, start=c.start, end=c.end,
                duration=c.duration, kind=c.kind, details=c.details, cancelled=False, misses=0)
        for c in contests
    ]
    if rows:
        await Contest.bulk_create(rows, on_conflict=["site_id", "key"], update_fields=_UPDATED_FIELDS,
                                  batch_size=BATCH)


async def count_misses(known: dict[str, Known], fetched: dict[str, Fetched], now: datetime) -> list[Change]:
    """Count one more miss for each future contest the fetch did not list; cancel those missed enough."""
    missing = [k for key, k in known.items() if key not in fetched and k.start > now and not k.cancelled]
    first_miss = [k.id for k in missing if k.misses + 1 < MISSES_TO_CANCEL]
    cancelled = [k for k in missing if k.misses + 1 >= MISSES_TO_CANCEL]
    written = datetime.now(UTC)  # update() does not apply auto_now
    for ids in batches(first_miss):
        await Contest.filter(id__in=ids).update(misses=1, updated_at=written)
    for ids in batches([k.id for k in cancelled]):
        await Contest.filter(id__in=ids).update(cancelled=True, misses=MISSES_TO_CANCEL, updated_at=written)
    return [Change(ChangeKind.CANCELLED, k.key, old=k) for k in cancelled]


async def record_changes(site: str, changes: Sequence[Change], now: datetime) -> None:
    """Store the change records; new contests' ids are read back in one query."""
    if not changes:
        return
    new_keys = [c.key for c in changes if c.kind is ChangeKind.NEW]
    ids = {c.key: c.old.id for c in changes if c.old is not None}
    for keys in batches(new_keys):
        ids.update(await Contest.filter(site_id=site, key__in=keys).values_list("key", "id"))
    rows = [change_row(change, ids[change.key], now) for change in changes]
    await in_commit_order()
    await ContestChange.bulk_create(rows, batch_size=BATCH)


async def in_commit_order() -> None:
    """Hold the change stream's lock until this transaction ends, so change ids are handed out in the order the
    transactions commit (fetchers/changes.py relies on it). SQLite writes one transaction at a time anyway."""
    connection = ContestChange._meta.db
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [CHANGE_STREAM_LOCK])


def change_row(change: Change, contest_id: int, now: datetime) -> ContestChange:
    old, new = change.old, change.new
    return ContestChange(
        contest_id=contest_id, kind=change.kind, noticed_at=now,
        old_start=old.start if old else None, new_start=new.start if new else None,
        old_title=old.title if old else None, new_title=new.title if new else None,
        old_duration=old.duration if old else None, new_duration=new.duration if new else None,
    )


def batches(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for begin in range(0, len(items), size):
        yield items[begin:begin + size]
