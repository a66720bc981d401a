"""The one idea every delivery channel implements (Telegram, email, Discord: one module each). The scheduler
reaches channels only through this protocol and never names one.

A channel says which addresses of each account it reaches (`reachable`, one query for everybody), turns a batch
(what one account gets at one moment: reminders, or a notice that a contest moved or was cancelled) into the
messages for those addresses (`render`, no I/O), and sends them (`send`), answering one `Result` per message:
sent, retry after N seconds, the address is gone (the channel has already forgotten it), or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from notify.messages import ContestInfo, Locale, Notice, Reminder


class ChannelName(StrEnum):
    TELEGRAM = "telegram"
    EMAIL = "email"
    DISCORD = "discord"


class DeliveryKind(StrEnum):
    """What a sent-log row is about."""

    REMINDER = "reminder"
    MOVED = "moved"  # a contest the account was reminded of moved
    CANCELLED = "cancelled"  # ... or was cancelled
    SNOOZE = "snooze"  # "again in 10 minutes"


class DeliveryStatus(StrEnum):
    PLANNED = "planned"  # a snoozed reminder waiting for its moment
    CLAIMED = "claimed"  # this run is sending it right now
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # its contest started before it could go out
    INTERRUPTED = "interrupted"  # the run that claimed it died: maybe sent, never resent


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again after `Result.retry_after` seconds
    GONE = "gone"  # the address no longer exists (blocked bot, deleted webhook): the channel dropped it
    FAILED = "failed"  # anything else; `Result.error` says what


@dataclass(frozen=True, slots=True)
class Result:
    verdict: Verdict
    error: str | None = None
    retry_after: float = 0.0

    @property
    def sent(self) -> bool:
        return self.verdict is Verdict.SENT


SENT = Result(Verdict.SENT)


def retry_after(seconds: float, error: str) -> Result:
    return Result(Verdict.RETRY, error, max(0.0, seconds))


def gone(error: str) -> Result:
    return Result(Verdict.GONE, error)


def failed(error: str) -> Result:
    return Result(Verdict.FAILED, error)


@dataclass(frozen=True, slots=True)
class Reminders:
    """The reminders due for one account at one moment (one message)."""

    items: tuple[Reminder, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """The contests of one digest period (for channels that carry digests: email)."""

    contests: tuple[ContestInfo, ...]
    schedule: Any  # notify.digest.DigestSchedule
    due: datetime


Content = Reminders | Notice | Digest


@dataclass(frozen=True, slots=True)
class Batch:
    """What one account gets through one channel at one moment, and where it goes."""

    account_id: int
    locale: Locale
    content: Content
    addresses: tuple[Any, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one address, ready to send; `payload` is the channel's own."""

    address: Any
    payload: Any


class Channel(Protocol):
    name: ClassVar[ChannelName]
    #: messages in flight at once (each holds its claim until it is settled)
    concurrency: int
    #: batches sent in one `send` call (email: one SMTP connection)
    batch_size: int

    async def reachable(self) -> dict[int, tuple[Any, ...]]:
        """Every account this channel reaches, with its addresses (hashable values)."""

    def render(self, batch: Batch) -> list[Outgoing]:
        """One message per address of the batch, in the batch's locale. Pure: no I/O."""

    async def send(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        """One result per message, in order; never raises for what the other side answers."""


def delivered(results: Sequence[Result]) -> bool:
    """A batch counts as delivered when at least one of its addresses got it."""
    return any(result.sent for result in results)


def soonest_retry(results: Sequence[Result]) -> float | None:
    """Seconds to wait before trying the batch again, or None when no address asked for a retry."""
    waits = [result.retry_after for result in results if result.verdict is Verdict.RETRY]
    return min(waits) if waits else None
