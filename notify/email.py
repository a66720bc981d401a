"""The email channel: reminder, notice and verification emails, who may get them, and the SMTP sender.

Every email is multipart (plain text and HTML from notify/templates/, titles escaped) in the account's language
and time zone, with a subject that carries the news ("Moved: Round 999 → Fri 27 Nov 00:33 MSK"). Reminders and
notices carry an .ics named after the contest (one stable UID per contest, so calendars update the event instead
of adding another; an alarm before the start) and offer one-click unsubscribe (RFC 8058: `List-Unsubscribe` with
an https link, `List-Unsubscribe-Post`), written as plain headers: mail providers ignore an RFC 2047-encoded
`List-Unsubscribe`. The verification email subscribes nobody, so it has no unsubscribe link.
The sender sends a batch over one SMTP connection, retries what is left of it on a new connection when the
connection fails, and answers with one result per message within its timeout: it never raises into the
caller, so an SMTP outage costs only the email channel its own time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from email.header import Header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

import aiosmtplib
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tortoise.queryset import QuerySet

from models.account import EmailAddress
from models.metrics import EMAILS_SENT, SMTP_FAILURES
from notify.channel import SENT as DELIVERED
from notify.channel import Batch, ChannelName, Digest, Outgoing, Reminders, Result, failed
from notify.formatting import relative
from notify.i18n import ngettext, speaking
from notify.ical import DEFAULT_ALARM, calendar_filename, contests_calendar
from notify.letters import (
    Button,
    Footer,
    Letter,
    Section,
    card_time,
    contest_card,
    html_of,
    subject_time,
    text_of,
)
from notify.messages import ContestInfo, Locale, Notice, Reminder
from notify.zones import zone_display, zone_of

log = logging.getLogger("contestbell.email")

VERIFY_PATH = "/email/verify/{token}"
#: how long a verification link works after its email went out
VERIFY_LINK_LIFETIME = timedelta(hours=48)
LINK_HOURS = int(VERIFY_LINK_LIFETIME.total_seconds() // 3600)
UNSUBSCRIBE_PATH = "/email/unsubscribe/{token}"
ONE_CLICK = "List-Unsubscribe=One-Click"
#: RFC 5322: a line, without its CRLF, never longer than this
_MOST_OCTETS_PER_LINE = 998
#: at most this many account ids in one `IN (...)` (PostgreSQL and SQLite cap the parameters of a query)
_IDS_PER_QUERY = 10_000


class Mailbox(Protocol):
    """Where an email goes and the token of its unsubscribe links (an `EmailAddress` row is one)."""

    address: str
    token: str | None


class PendingMailbox(Mailbox, Protocol):
    """An address waiting for confirmation: its verification link has a token of its own."""

    verify_token: str | None


# plain headers


class PlainHeader(UnstructuredHeader):
    """A header written as it is, never RFC 2047-encoded: mail providers read `List-Unsubscribe` only as plain
    text. It is folded only at its own whitespace (after the colon, between words), so a URL stays in one piece;
    a line passes the policy's 78 characters when there is nowhere to fold, never 998.

    The header itself decides how it is folded, whatever policy writes the message: aiosmtplib flattens with
    its own (`email.policy.SMTP`), so a policy of ours would not be asked.
    """

    max_count = 1

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        if not (value.isascii() and value.isprintable()):
            raise ValueError(f"a plain header is printable ASCII: {value!r}")
        if any(1 + len(word) > _MOST_OCTETS_PER_LINE for word in value.split()):
            raise ValueError(f"a word too long for a line of a header: {value!r}")
        super().parse(value, kwds)
        kwds["decoded"] = value  # as written: an "=?" in it is no encoded word

    def fold(self, *, policy: EmailPolicy) -> str:
        most = min(policy.max_line_length or _MOST_OCTETS_PER_LINE, _MOST_OCTETS_PER_LINE)
        lines = [f"{self.name}:"]
        for word in self.split():
            if len(lines[-1]) + 1 + len(word) > most:
                lines.append("")  # the next line starts with the space before the word: folding whitespace
            lines[-1] += " " + word
        return policy.linesep.join(lines) + policy.linesep


class EncodedWordsHeader(UnstructuredHeader):
    """Free text (the Subject) whose non-ASCII is written by `email.header.Header`: RFC 2047 encoded words that
    carry their own spaces. The policies' folder leaves the space between two encoded words outside them, where
    readers drop it as folding whitespace ("1000 (Див. 2)" read back as "1000(Див. 2)"). ASCII text is folded as
    usual."""

    max_count = 1

    def fold(self, *, policy: EmailPolicy) -> str:
        if str(self).isascii():
            return super().fold(policy=policy)
        most = min(policy.max_line_length or 78, _MOST_OCTETS_PER_LINE)
        encoded = Header(str(self), "utf-8", maxlinelen=most, header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def _policy_with(headers: dict[str, type]) -> EmailPolicy:
    registry = HeaderRegistry()
    for name, kind in headers.items():
        registry.map_to_type(name, kind)
    return default_policy.clone(header_factory=registry)


#: how our messages are built: the default policy, with the one-click unsubscribe headers plain and the subject's
#: spaces kept
_POLICY = _policy_with({"List-Unsubscribe": PlainHeader, "List-Unsubscribe-Post": PlainHeader,
                        "Subject": EncodedWordsHeader})


# links


def verify_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + VERIFY_PATH.format(token=quote(token, safe=""))


def unsubscribe_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + UNSUBSCRIBE_PATH.format(token=quote(token, safe=""))


# who gets mail


def receiving() -> QuerySet[EmailAddress]:
    """The addresses that get mail: confirmed and not unsubscribed (the one place this rule is written)."""
    return EmailAddress.filter(verified_at__isnull=False, unsubscribed=False).order_by("id")


async def email_recipients(account_ids: Iterable[int]) -> dict[int, EmailAddress]:
    """The first receiving address of each account (one query per 10,000 accounts). Accounts without one are
    missing from the answer."""
    ids = sorted(set(account_ids))
    found: dict[int, EmailAddress] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        for row in await receiving().filter(account_id__in=ids[start:start + _IDS_PER_QUERY]):
            found.setdefault(row.account_id, row)
    return found


# composing


def _mailing_link(to: Mailbox, base_url: str) -> str:
    """The address's unsubscribe link: every email people subscribed to carries one."""
    if not to.token:
        raise ValueError(f"{to.address} has no token for its unsubscribe link")
    return unsubscribe_link(base_url, to.token)


def card_labels() -> dict[str, str]:
    """The words the templates print around a card's values, in the language in force."""
    return {"duration": _("Duration: {duration}"), "was": _("Was:"), "cancelled": _("Cancelled")}


def subscription_footer(unsubscribe: str) -> Footer:
    return Footer((_("You get this email because you asked contestbell for contest reminders."),), _("Unsubscribe"),
                  unsubscribe)


def times_note(zone: tzinfo, language: str, now: datetime) -> str:
    """'Times are in Moscow (UTC+3).': the zone said once, at the top (the cards show wall-clock times)."""
    return _("Times are in {zone}.").format(zone=zone_display(zone, language, now))


def message_of(letter: Letter, to: Mailbox | PendingMailbox, *, from_address: str, now: datetime,
               calendar: bytes | None = None, calendar_name: str = "contest.ics") -> EmailMessage:
    """The message: plain text and HTML of `letter`, the .ics when given. A letter with a footer is a
    subscription: its unsubscribe link becomes the one-click headers too (RFC 8058)."""
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = " ".join(letter.subject.split())  # a title's line breaks never make headers
    message["From"] = from_address
    message["To"] = to.address
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid("contestbell", domain=_domain_of(from_address))
    message["Auto-Submitted"] = "auto-generated"
    if letter.footer is not None:
        message["List-Unsubscribe"] = f"<{letter.footer.link}>"
        message["List-Unsubscribe-Post"] = ONE_CLICK
    message.set_content(text_of(letter))
    message.add_alternative(html_of(letter), subtype="html")
    if calendar is not None:
        message.add_attachment(calendar, maintype="text", subtype="calendar", filename=calendar_name,
                               params={"method": "PUBLISH", "charset": "utf-8"})
    message["Content-Language"] = letter.language
    return message


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def _alarm_before(reminders: Sequence[Reminder]) -> timedelta:
    """When the attached event's alarm rings: 15 minutes before the start, or at the person's reminder offset when
    that is shorter (a 10-minute reminder: 10 minutes). A longer offset would ring as the email arrives."""
    shortest = min(timedelta(seconds=max(reminder.offset, 0)) for reminder in reminders)
    return min(shortest, DEFAULT_ALARM) if shortest > timedelta(0) else DEFAULT_ALARM


def reminder_subject(contests: Sequence[ContestInfo], now: datetime) -> str:
    """'Starts in 1 h: Codeforces Round 999'; several: '3 contests start soon'."""
    if len(contests) > 1:
        return ngettext("{n} contest starts soon", "{n} contests start soon", len(contests)).format(n=len(contests))
    contest = contests[0]
    if contest.start - now < timedelta(minutes=1):
        return _("Starting now: {title}").format(title=contest.title)
    return _("Starts {when}: {title}").format(when=relative(contest.start, now), title=contest.title)


def reminder_email(i18n: I18n, locale: Locale, to: Mailbox, reminders: Sequence[Reminder], *,
                   from_address: str, base_url: str, now: datetime | None = None) -> EmailMessage:
    """One email for the reminders due at one moment for one account: a card per contest (in start order) in its
    zone and language, a note when the reminder is late, and the contests as an .ics with an alarm."""
    if not reminders:
        raise ValueError("a reminder email needs at least one reminder")
    now = now or datetime.now(UTC)
    zone, language = zone_of(locale.timezone), locale.language
    contests = sorted((reminder.contest for reminder in reminders), key=lambda contest: contest.start)
    with speaking(i18n, language):
        open_label = _("Open the contest")
        heading = _("Contest reminder") if len(contests) == 1 else reminder_subject(contests, now)
        late = [_("This reminder comes late: contestbell was not running when it was due.")] \
            if any(reminder.late for reminder in reminders) else []
        letter = Letter(language, reminder_subject(contests, now), heading, intro=(times_note(zone, language, now),),
                        sections=(Section(tuple(contest_card(c, zone, language, now, open_label) for c in contests)),),
                        outro=tuple(late), footer=subscription_footer(_mailing_link(to, base_url)),
                        labels=card_labels())
        return message_of(letter, to, from_address=from_address, now=now,
                          calendar=contests_calendar(contests, now, alarm_before=_alarm_before(reminders)),
                          calendar_name=calendar_filename(contests))


def notice_email(i18n: I18n, locale: Locale, to: Mailbox, notice: Notice, *, from_address: str,
                 base_url: str, now: datetime | None = None) -> EmailMessage:
    """A contest people were reminded of moved (the new start first, the old one struck) or was cancelled; the
    .ics updates or cancels the event they may have saved."""
    now = now or datetime.now(UTC)
    zone, language = zone_of(locale.timezone), locale.language
    contest, cancelled = notice.contest, notice.kind == "cancelled"
    with speaking(i18n, language):
        old = card_time(notice.old_start, zone, language) if notice.old_start is not None else None
        if cancelled:
            subject, heading = _("Cancelled: {title}").format(title=contest.title), _("Contest cancelled")
            intro = _("{title} has been cancelled.").format(title=contest.title)
            old = old or card_time(contest.start, zone, language)
        else:
            subject = _("Moved: {title} → {time}").format(title=contest.title,
                                                         time=subject_time(contest.start, zone, language))
            heading, intro = _("Contest moved"), _("{title} has moved.").format(title=contest.title)
        card = contest_card(contest, zone, language, now, _("Open the contest"), was=old, cancelled=cancelled)
        letter = Letter(language, subject, heading, intro=(" ".join(intro.split()), times_note(zone, language, now)),
                        sections=(Section((card,)),), footer=subscription_footer(_mailing_link(to, base_url)),
                        labels=card_labels())
        return message_of(letter, to, from_address=from_address, now=now,
                          calendar=contests_calendar([contest], now, cancelled=cancelled),
                          calendar_name=calendar_filename([contest]))


def verification_email(i18n: I18n, to: PendingMailbox, language: str, *, from_address: str, base_url: str,
                       now: datetime | None = None) -> EmailMessage:
    """The link that proves the address belongs to whoever asked for reminders there (its own token). Nobody
    subscribed yet, so it has no unsubscribe link: it says why it came and what to do if it was not them."""
    now = now or datetime.now(UTC)
    if not to.verify_token:
        raise ValueError(f"{to.address} has no token for its verification link")
    link = verify_link(base_url, to.verify_token)
    with speaking(i18n, language):
        letter = Letter(language, _("Confirm your email for contest reminders"), _("Confirm your email"), intro=(
            _("Someone, hopefully you, asked contestbell to send contest reminders to {address}.").format(
                address=to.address),
            ngettext("Open the link below to confirm. It works for {n} hour.",
                     "Open the link below to confirm. It works for {n} hours.", LINK_HOURS).format(n=LINK_HOURS),
        ), button=Button(_("Confirm this address"), link),
            button_fallback=_("The button does not work? Open this link: {link}").format(link=link),
            outro=(_("If it was not you, ignore this email: nothing will be sent until the address is confirmed."),))
        return message_of(letter, to, from_address=from_address, now=now)


# sending


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where mail goes: port 465 is TLS from the start; otherwise `starttls` requires STARTTLS."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one message: sent, or why not, and whether trying again later may help."""

    ok: bool
    error: str | None = None
    temporary: bool = False


SENT = SendResult(ok=True)


class _ConnectionLost(Exception):
    """The connection failed in the middle of a batch: the rest goes over a new one."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _worth_retrying(error: BaseException) -> bool:
    """A dropped or refused connection, a timeout, a 4xx answer: yes. Wrong credentials, no STARTTLS or AUTH
    on the server, a 5xx answer: no, the next try would fail the same way."""
    if isinstance(error, _ConnectionLost):
        return True
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 400 <= error.code < 500
    if isinstance(error, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError):
        return True
    return isinstance(error, OSError) and not isinstance(error, aiosmtplib.SMTPException)


class _Progress:
    """Counts the connection attempts in a row that sent nothing (tenacity asks for the wait, then whether
    to stop, after each failed attempt)."""

    def __init__(self, results: list[SendResult | None]) -> None:
        self.results, self.done, self.fruitless, self.seen = results, -1, 0, 0

    def _update(self, state: RetryCallState) -> int:
        if state.attempt_number != self.seen:
            self.seen = state.attempt_number
            done = sum(result is not None for result in self.results)
            self.fruitless = 1 if done > self.done else self.fruitless + 1
            self.done = done
        return self.fruitless

    def stop_after(self, attempts: int) -> Callable[[RetryCallState], bool]:
        return lambda state: self._update(state) >= attempts

    def backoff(self, first: float, most: float) -> Callable[[RetryCallState], float]:
        return lambda state: min(first * 2 ** (self._update(state) - 1), most)


def count_sent(results: Sequence[SendResult]) -> None:
    for result in results:
        if result.ok:
            EMAILS_SENT.inc()
        else:
            SMTP_FAILURES.labels("temporary" if result.temporary else "permanent").inc()


class EmailSender:
    """Sends batches of messages over one SMTP connection each (connect, send all, QUIT).

    A connection that fails is opened again with exponential backoff, up to `attempts` times, for the messages
    not sent yet; a message the server refuses fails alone. `send` answers within `timeout` seconds with one
    result per message and never raises.
    """

    def __init__(self, server: SmtpServer, from_address: str, *, timeout: float = 60.0, attempts: int = 3,
                 backoff: float = 1.0, command_timeout: float = 15.0) -> None:
        if "@" not in parseaddr(from_address)[1]:
            raise ValueError(f"not an email address to send from: {from_address!r}")
        self.server, self.from_address = server, from_address
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        self.command_timeout = min(command_timeout, timeout)

    async def send_one(self, message: EmailMessage) -> SendResult:
        return (await self.send([message]))[0]

    async def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        results: list[SendResult | None] = [None] * len(messages)
        if not messages:
            return []
        leftover = SendResult(ok=False, error="not sent", temporary=True)
        try:
            async with asyncio.timeout(self.timeout):
                leftover = await self._send_with_retries(messages, results)
        except TimeoutError:
            leftover = SendResult(ok=False, error=f"SMTP gave no answer within {self.timeout:g} s", temporary=True)
        except Exception as error:  # a bug must not stop the other channels either
            log.exception("sending %d emails failed", len(messages))
            leftover = SendResult(ok=False, error=_describe(error), temporary=True)
        final = [result or leftover for result in results]
        count_sent(final)
        failed = sum(not result.ok for result in final)
        if failed:
            log.warning("%d of %d emails not sent through %s:%d (%s)", failed, len(final), self.server.host,
                        self.server.port, next(r.error for r in final if not r.ok))
        return final

    async def _send_with_retries(self, messages: Sequence[EmailMessage],
                                 results: list[SendResult | None]) -> SendResult:
        """Fill in `results`; answer what the messages left over (if any) get. A connection that sent something
        before it failed starts the count of attempts (and the backoff) afresh: a long batch over a flaky
        server keeps going as long as it gets somewhere."""
        progress = _Progress(results)
        retrying = AsyncRetrying(stop=progress.stop_after(self.attempts),
                                 wait=progress.backoff(self.backoff, most=self.backoff * 30),
                                 retry=retry_if_exception(_worth_retrying), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    await self._send_over_one_connection(messages, results)
        except (aiosmtplib.SMTPException, OSError, _ConnectionLost) as error:
            cause = error.__cause__ if isinstance(error, _ConnectionLost) and error.__cause__ else error
            return SendResult(ok=False, error=_describe(cause), temporary=_worth_retrying(error))
        return SendResult(ok=False, error="not sent", temporary=True)

    def _client(self) -> aiosmtplib.SMTP:
        server = self.server
        implicit_tls = server.port == 465
        return aiosmtplib.SMTP(hostname=server.host, port=server.port, username=server.user,
                               password=server.password, use_tls=implicit_tls,
                               start_tls=server.starttls and not implicit_tls, timeout=self.command_timeout)

    async def _send_over_one_connection(self, messages: Sequence[EmailMessage],
                                        results: list[SendResult | None]) -> None:
        smtp = self._client()
        try:
            await smtp.connect()
            for index, message in enumerate(messages):
                if results[index] is None:
                    results[index] = await self._send_message(smtp, message)
        except BaseException:
            smtp.close()  # no QUIT on a broken or cancelled connection
            raise
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()

    @staticmethod
    async def _send_message(smtp: aiosmtplib.SMTP, message: EmailMessage) -> SendResult:
        try:
            await smtp.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            return SendResult(ok=False, error=_describe(error), temporary=all(400 <= c < 500 for c in codes))
        except aiosmtplib.SMTPResponseException as error:
            if error.code == 421 or not smtp.is_connected:  # the server is closing the connection
                raise _ConnectionLost(_describe(error)) from error
            return SendResult(ok=False, error=f"{error.code} {error.message}", temporary=400 <= error.code < 500)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
            raise _ConnectionLost(_describe(error)) from error
        except (ValueError, aiosmtplib.SMTPNotSupported) as error:  # an address this server cannot take
            return SendResult(ok=False, error=_describe(error))
        return SENT


# the channel


@dataclass(frozen=True, slots=True)
class MailAddress:
    """A receiving address and the token of its unsubscribe links (hashable, unlike the row)."""

    address: str
    token: str | None = field(repr=False)
    id: int = 0
    digests: bool = True  # not unsubscribed from digests


class EmailChannel:
    """Reminders and notices to every receiving address of an account; a batch of emails over one connection."""

    name: ClassVar[ChannelName] = ChannelName.EMAIL
    concurrency = 2
    batch_size = 50
    #: digests (scheduler/digests.py) go out through this channel
    carries_digests = True

    def __init__(self, i18n: I18n, sender: EmailSender, base_url: str) -> None:
        self.i18n, self.sender, self.base_url = i18n, sender, base_url

    async def reachable(self) -> dict[int, tuple[MailAddress, ...]]:
        found: dict[int, tuple[MailAddress, ...]] = {}
        for account_id, address, token, row_id, no_digests in await receiving().values_list(
                "account_id", "address", "token", "id", "digest_unsubscribed"):
            found[account_id] = (*found.get(account_id, ()), MailAddress(address, token, row_id, not no_digests))
        return found

    def render(self, batch: Batch) -> list[Outgoing]:
        return [Outgoing(to, self._letter(batch, to)) for to in batch.addresses]

    def _letter(self, batch: Batch, to: MailAddress) -> EmailMessage:
        options = {"from_address": self.sender.from_address, "base_url": self.base_url, "now": batch.now}
        content = batch.content
        if isinstance(content, Reminders):
            return reminder_email(self.i18n, batch.locale, to, content.items, **options)
        if isinstance(content, Digest):
            from notify.digest import digest_email  # the digest module builds on this one

            return digest_email(self.i18n, batch.locale, to, content.contests, content.schedule, content.due,
                                **options)
        return notice_email(self.i18n, batch.locale, to, content, **options)

    async def send(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        return [_as_result(sent) for sent in await self.sender.send([item.payload for item in outgoing])]


def _as_result(sent: SendResult) -> Result:
    """The sender already tried again on new connections: what it could not send has failed."""
    return DELIVERED if sent.ok else failed(sent.error or "not sent")
