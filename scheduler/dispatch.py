"""Sending what falls due: claim each reminder in the sent-log first (a unique row per account, contest,
channel, kind, offset and start), then send only what this run claimed: one Telegram message per chat and
one email per verified address for each moment. Email goes out beside Telegram, never before it, so a
failing SMTP server costs Telegram nothing.

A crash between claim and send leaves rows `claimed`: they are reported on the next start, never resent,
so nobody gets a reminder twice; a second scheduler running by mistake claims nothing it did not insert.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import sentry_sdk
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from models.account import Delivery
from models.contest import ChangeKind, ContestChange
from notify.email import EmailSender, notice_email, reminder_email
from notify.messages import ContestInfo, Notice, Recipient, Reminder
from notify.render import notice_text, open_label, reminder_text, snooze_label
from notify.telegram import SendResult, reminder_keyboard
from scheduler.plan import Plan, PlanEntry, Snoozed, Subscriber, contest_info

log = logging.getLogger(__name__)

#: a reminder sent this long after its due moment says it is late
LATE_AFTER = timedelta(seconds=60)
BATCH = 1000
#: accounts claimed and sent to at a time (what a crash can cut off at most)
CHUNK = 200
#: the changes that those already reminded are told of
NOTICED = (ChangeKind.RESCHEDULED, ChangeKind.CANCELLED)


class Sender(Protocol):
    async def send(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class MailOut:
    """The email channel: the SMTP sender and the base URL of the links in emails."""

    sender: EmailSender
    base_url: str


@dataclass(slots=True)
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {"sent": len(self.sent), "failed": len(self.failed), "skipped": self.skipped}


Channels = Callable[[Subscriber], list[str]]
Rendered = TypeVar("Rendered")


def rendered(account_id: int, render: Callable[..., Rendered], *args: Any, **kwargs: Any) -> Rendered | None:
    """`render(*args, **kwargs)`: a message made for one account, or None when making it failed: a bug of ours,
    reported once to the log and Sentry, that costs that account this message and nobody else theirs."""
    try:
        return render(*args, **kwargs)
    except Exception as error:
        log.exception("could not render a message for account %d", account_id)
        sentry_sdk.capture_exception(error)
        return None


def claim_rows(entries: Iterable[PlanEntry], now: datetime, token: str, channels: Channels) -> list[Delivery]:
    rows = []
    for entry in entries:
        started = entry.contest.start <= now
        for subscriber in entry.subscribers:
            rows.extend(Delivery(
                account_id=subscriber.account_id, contest_id=entry.contest.id, channel=channel,
                kind="reminder", offset_seconds=entry.offset, contest_start=entry.contest.start, due_at=entry.due,
                status="skipped" if started else "claimed", claimed_by=token, claimed_at=now,
            ) for channel in channels(subscriber))
    return rows


async def claim(rows: list[Delivery], token: str) -> list[tuple[int, int, int, int, str, str]]:
    """Insert the rows, skipping any that exist, and return those this run inserted:
    (id, account, contest, offset, status, channel)."""
    if rows:
        await Delivery.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    return await Delivery.filter(claimed_by=token).values_list(
        "id", "account_id", "contest_id", "offset_seconds", "status", "channel")


async def mark(ids: list[int], status: str, now: datetime, error: str | None = None) -> None:
    for begin in range(0, len(ids), BATCH):
        chunk = ids[begin:begin + BATCH]
        await Delivery.filter(id__in=chunk).update(status=status, sent_at=now if status == "sent" else None,
                                                   error=error)


class ReminderRun:
    """Claims and sends due reminders and change notices through a Telegram sender."""

    def __init__(self, i18n: I18n, sender: Sender | None, mail: MailOut | None = None, concurrency: int = 64) -> None:
        self.i18n, self.sender, self.mail = i18n, sender, mail
        self.gate = asyncio.Semaphore(concurrency)

    def channels(self, subscriber: Subscriber) -> list[str]:
        """Where this subscriber is reached: Telegram chats and a verified email address, as configured."""
        found = ["telegram"] if self.sender is not None and subscriber.chat_ids else []
        return [*found, "email"] if self.mail is not None and subscriber.mailbox is not None else found

    def keyboard(self, recipient: Recipient, contest: ContestInfo | None) -> InlineKeyboardMarkup | None:
        """A single contest's message carries "again in 10 min" and a link to the contest."""
        if contest is None:
            return None
        return reminder_keyboard(contest.id, contest.url, snooze_text=snooze_label(self.i18n, recipient.language, 10),
                                 open_text=open_label(self.i18n, recipient.language))

    async def remind(self, plan: Plan, entries: list[PlanEntry], now: datetime) -> Outcome:
        """Claim, send and mark in chunks of accounts, so that a crash cuts off at most one chunk."""
        outcome = Outcome()
        rows_by_account: dict[int, list[Delivery]] = defaultdict(list)
        for row in claim_rows(entries, now, "", self.channels):
            rows_by_account[row.account_id].append(row)
        accounts = list(rows_by_account)
        due_of = {(entry.contest.id, entry.offset): entry for entry in entries}
        for begin in range(0, len(accounts), CHUNK):
            rows = [row for account in accounts[begin:begin + CHUNK] for row in rows_by_account[account]]
            await self._remind_chunk(plan, rows, due_of, now, outcome)
        if outcome.skipped:
            log.warning("%d reminders skipped: their contests started while we were down", outcome.skipped)
        return outcome

    async def _remind_chunk(self, plan: Plan, rows: list[Delivery], due_of: dict[tuple[int, int], PlanEntry],
                            now: datetime, outcome: Outcome) -> None:
        token = str(uuid.uuid4())
        for row in rows:
            row.claimed_by = token
        sent_before, failed_before = len(outcome.sent), len(outcome.failed)
        messages: dict[tuple[str, int, datetime], list[tuple[int, Reminder]]] = defaultdict(list)
        for delivery_id, account_id, contest_id, offset, status, channel in await claim(rows, token):
            if status != "claimed":
                outcome.skipped += 1
                continue
            entry = due_of[(contest_id, offset)]
            late = now - entry.due > LATE_AFTER
            messages[(channel, account_id, entry.due)].append((delivery_id, Reminder(entry.contest, offset, late)))
        by_telegram = [(plan.subscribers[account], items) for (channel, account, _), items in messages.items()
                       if channel == "telegram"]
        by_email = [(plan.subscribers[account], items) for (channel, account, _), items in messages.items()
                    if channel == "email"]
        await asyncio.gather(self._email_reminders(by_email, now, outcome),
                             *(self._send_reminders(subscriber, items, now, outcome)
                               for subscriber, items in by_telegram))
        await mark(outcome.sent[sent_before:], "sent", utcnow())
        await mark(outcome.failed[failed_before:], "failed", utcnow(), error="not delivered")

    async def _send_reminders(self, subscriber: Subscriber, items: list[tuple[int, Reminder]], now: datetime,
                              outcome: Outcome) -> None:
        reminders = [reminder for _, reminder in items]
        text = rendered(subscriber.account_id, reminder_text, self.i18n, subscriber.recipient, reminders, now)
        contest = reminders[0].contest if len(reminders) == 1 else None
        delivered = text is not None and await self._to_chats(subscriber, text, contest)
        (outcome.sent if delivered else outcome.failed).extend(delivery_id for delivery_id, _ in items)

    async def _email_reminders(self, batch: list[tuple[Subscriber, list[tuple[int, Reminder]]]], now: datetime,
                               outcome: Outcome) -> None:
        """One email per subscriber and moment, all over one SMTP connection."""
        if not batch or self.mail is None:
            return
        mail, ready = self.mail, []
        for subscriber, items in batch:
            letter = rendered(subscriber.account_id, reminder_email, self.i18n, subscriber.recipient,
                              subscriber.mailbox, [r for _, r in items], from_address=mail.sender.from_address,
                              base_url=mail.base_url, now=now)
            if letter is None:
                outcome.failed.extend(delivery_id for delivery_id, _ in items)
            else:
                ready.append((items, letter))
        results = await mail.sender.send([letter for _, letter in ready])
        for (items, _letter), result in zip(ready, results, strict=True):
            (outcome.sent if result.ok else outcome.failed).extend(delivery_id for delivery_id, _ in items)

    async def _to_chats(self, subscriber: Subscriber, text: str, contest: ContestInfo | None) -> bool:
        markup = self.keyboard(subscriber.recipient, contest)
        results = []
        for chat_id in subscriber.chat_ids:
            async with self.gate:
                results.append(await self.sender.send(chat_id, text, markup))
        return any(result.sent for result in results)

    async def notify_changes(self, plan: Plan, after_id: int, through_id: int, now: datetime) -> Outcome:
        """Tell those already reminded of a contest that it moved or was cancelled (once per change): the changes
        with ids in (after_id, through_id], the change stream's order (fetchers/changes.py)."""
        outcome = Outcome()
        changes = await ContestChange.filter(
            kind__in=NOTICED, id__gt=after_id, id__lte=through_id).select_related("contest").order_by("id")
        for change in changes:
            await self._notify_change(plan, change, now, outcome)
        await mark(outcome.sent, "sent", now)
        await mark(outcome.failed, "failed", now, error="not delivered")
        return outcome

    async def _notify_change(self, plan: Plan, change: ContestChange, now: datetime, outcome: Outcome) -> None:
        kind = "moved" if change.kind == ChangeKind.RESCHEDULED else "cancelled"
        reminded_start = change.old_start if change.old_start is not None else change.contest.start
        reminded = await Delivery.filter(kind="reminder", status="sent", contest_id=change.contest_id,
                                         contest_start=reminded_start).values_list("account_id", flat=True)
        recipients = [plan.subscribers[account] for account in set(reminded) if account in plan.subscribers]
        token = str(uuid.uuid4())
        rows = [Delivery(account_id=s.account_id, contest_id=change.contest_id, channel=channel, kind=kind,
                         offset_seconds=0, contest_start=change.contest.start, due_at=now, status="claimed",
                         claimed_by=token, claimed_at=now) for s in recipients for channel in self.channels(s)]
        mine = {(channel, account): delivery_id
                for delivery_id, account, _c, _o, _s, channel in await claim(rows, token)}
        notice = Notice(kind, contest_info(change.contest), change.old_start)
        letters = []
        for subscriber in recipients:
            if ("email", subscriber.account_id) in mine and self.mail is not None:
                letter = rendered(subscriber.account_id, notice_email, self.i18n, subscriber.recipient,
                                  subscriber.mailbox, notice, from_address=self.mail.sender.from_address,
                                  base_url=self.mail.base_url, now=now)
                if letter is None:
                    outcome.failed.append(mine["email", subscriber.account_id])
                else:
                    letters.append((mine["email", subscriber.account_id], letter))
            if ("telegram", subscriber.account_id) not in mine:
                continue
            text = rendered(subscriber.account_id, notice_text, self.i18n, subscriber.recipient, notice, now)
            delivered = text is not None and await self._to_chats(
                subscriber, text, notice.contest if kind == "moved" else None)
            (outcome.sent if delivered else outcome.failed).append(mine["telegram", subscriber.account_id])
        if letters and self.mail is not None:
            results = await self.mail.sender.send([letter for _, letter in letters])
            for (delivery_id, _), result in zip(letters, results, strict=True):
                (outcome.sent if result.ok else outcome.failed).append(delivery_id)


    async def send_snoozed(self, plan: Plan, snoozed: list[Snoozed], now: datetime) -> Outcome:
        """Snoozed reminders that fell due: claimed by moving them from planned to claimed (atomic)."""
        outcome = Outcome()
        if not snoozed:
            return outcome
        token = str(uuid.uuid4())
        await Delivery.filter(id__in=[s.delivery_id for s in snoozed], status="planned").update(
            status="claimed", claimed_by=token, claimed_at=now)
        mine = set(await Delivery.filter(claimed_by=token).values_list("id", flat=True))
        for item in snoozed:
            subscriber = plan.subscribers.get(item.account_id)
            if item.delivery_id not in mine:
                continue
            if subscriber is None or item.contest.start <= now or self.sender is None:
                outcome.skipped += 1
                await mark([item.delivery_id], "skipped", now)
                continue
            text = rendered(subscriber.account_id, reminder_text, self.i18n, subscriber.recipient,
                            [Reminder(item.contest, 0)], now)
            delivered = text is not None and await self._to_chats(subscriber, text, item.contest)
            (outcome.sent if delivered else outcome.failed).append(item.delivery_id)
        await mark(outcome.sent, "sent", now)
        await mark(outcome.failed, "failed", now, error="not delivered")
        return outcome


def utcnow() -> datetime:
    return datetime.now(UTC)


async def report_interrupted(started: datetime) -> int:
    """Rows claimed before this (leading) scheduler started were cut off by a crash: marked `interrupted` and
    counted in the log, never resent (they may have gone out just before the crash)."""
    stale = Delivery.filter(status="claimed", claimed_at__lt=started)
    count = await stale.count()
    if count:
        await stale.update(status="interrupted", error="the sender stopped after claiming; maybe not sent")
        log.warning("%d reminders were claimed by a run that stopped before sending them: not resent", count)
    return count


def describe(outcomes: Iterable[Any]) -> str:
    return ", ".join(f"{key} {value}" for outcome in outcomes for key, value in outcome.counts.items() if value)
