"""The email channel: reminder, notice and verification emails, who may get them, and the SMTP sender.

Every email is multipart (plain text and HTML, titles escaped) in the account's language and time zone, carries
an .ics of its contests (one stable UID per contest, so calendars update the event instead of adding another),
and offers one-click unsubscribe (RFC 8058: `List-Unsubscribe` with an https link, `List-Unsubscribe-Post`),
written as plain headers: mail providers ignore an RFC 2047-encoded `List-Unsubscribe`.
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
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from typing import Any, ClassVar, Protocol
from urllib.parse import quote, urlsplit

import aiosmtplib
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tortoise.queryset import QuerySet

from models.account import EmailAddress
from models.metrics import EMAILS_SENT, SMTP_FAILURES
from notify.channel import SENT as DELIVERED
from notify.channel import Batch, ChannelName, Digest, Outgoing, Reminders, Result, failed
from notify.formatting import local_time, relative, span
from notify.i18n import speaking
from notify.ical import contests_calendar
from notify.messages import ContestInfo, Locale, Notice, Reminder
from notify.zones import zone_of

log = logging.getLogger("contestbell.email")

VERIFY_PATH = "/email/verify/{token}"
#: how long a verification link works after its email went out
VERIFY_LINK_LIFETIME = timedelta(hours=48)
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


def _policy_with_plain_headers(*names: str) -> EmailPolicy:
    registry = HeaderRegistry()
    for name in names:
        registry.map_to_type(name, PlainHeader)
    return default_policy.clone(header_factory=registry)


#: how our messages are built: the default policy, with the one-click unsubscribe headers plain
_POLICY = _policy_with_plain_headers("List-Unsubscribe", "List-Unsubscribe-Post")


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


def _both(template: str, **values: str) -> tuple[str, str]:
    """A translated template filled in as plain text and as HTML (the template and every value escaped)."""
    return template.format(**values), escape(template).format(**{k: escape(v) for k, v in values.items()})


@dataclass
class _Letter:
    """An email's words before they become a message: paragraphs as (text, html) pairs."""

    subject: str
    heading: str
    paragraphs: list[tuple[str, str]]


def _contest_block(contest: ContestInfo, zone: tzinfo, language: str, now: datetime) -> tuple[str, str]:
    where = f"{contest.site_label} · {local_time(contest.start, zone, language)} · {relative(contest.start, now)}"
    duration = _("Duration: {duration}").format(duration=span(contest.duration))
    title = escape(contest.title)
    if urlsplit(contest.url).scheme in ("http", "https"):  # a site's payload never becomes a script link
        title = f'<a href="{escape(contest.url, quote=True)}">{title}</a>'
    text = f"{contest.title}\n{where}\n{duration} · {contest.url}"
    return text, f"<b>{title}</b><br>{escape(where)}<br>{escape(duration)}"


def _footer(unsubscribe: str) -> tuple[str, str]:
    reason = _("You get this email because you asked contestbell for contest reminders.")
    action = _("Unsubscribe")
    return (f"{reason}\n{action}: {unsubscribe}",
            f'{escape(reason)}<br><a href="{escape(unsubscribe, quote=True)}">{escape(action)}</a>')


def _render(letter: _Letter, to: Mailbox, language: str, *, from_address: str, base_url: str, now: datetime,
            calendar: bytes | None = None, calendar_name: str = "contest.ics",
            unsubscribe: str | None = None) -> EmailMessage:
    """`unsubscribe`: the link of the one-click header and the footer (the address's unsubscribe link when not
    given; a digest brings its own)."""
    if not to.token:
        raise ValueError(f"{to.address} has no token for its unsubscribe link")
    unsubscribe = unsubscribe or unsubscribe_link(base_url, to.token)
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = " ".join(letter.subject.split())  # a title's line breaks never make headers
    message["From"] = from_address
    message["To"] = to.address
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid("contestbell", domain=_domain_of(from_address))
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = ONE_CLICK
    footer = _footer(unsubscribe)
    paragraphs = [*letter.paragraphs, footer]
    message.set_content("\n\n".join([letter.heading, *(text for text, _html in paragraphs)]) + "\n")
    body = "\n".join(f"<p>{html}</p>" for _text, html in paragraphs)
    message.add_alternative(
        f'<!doctype html>\n<html lang="{escape(language, quote=True)}"><head><meta charset="utf-8">'
        f"<title>{escape(letter.subject)}</title></head>\n<body>\n<h2>{escape(letter.heading)}</h2>\n{body}\n"
        "</body></html>\n", subtype="html")
    if calendar is not None:
        message.add_attachment(calendar, maintype="text", subtype="calendar", filename=calendar_name,
                               params={"method": "PUBLISH", "charset": "utf-8"})
    message["Content-Language"] = language
    return message


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def _titles(contests: Sequence[ContestInfo], most: int = 3) -> str:
    shown = "; ".join(c.title for c in contests[:most])
    return shown + ("; …" if len(contests) > most else "")


def reminder_email(i18n: I18n, locale: Locale, to: Mailbox, reminders: Sequence[Reminder], *,
                   from_address: str, base_url: str, now: datetime | None = None) -> EmailMessage:
    """One email for the reminders due at one moment for one account: each contest in its zone and
    language, how far away it is, a note when the reminder is late, and the contests as an .ics."""
    if not reminders:
        raise ValueError("a reminder email needs at least one reminder")
    now = now or datetime.now(UTC)
    zone, language = zone_of(locale.timezone), locale.language
    contests = [reminder.contest for reminder in reminders]
    with speaking(i18n, language):
        if len(contests) == 1:
            subject = _("{title} starts {when}").format(title=contests[0].title,
                                                        when=relative(contests[0].start, now))
        else:
            subject = _("Starting soon: {titles}").format(titles=_titles(contests))
        paragraphs = [_contest_block(contest, zone, language, now) for contest in contests]
        if any(reminder.late for reminder in reminders):
            paragraphs.append(_both(_("This reminder comes late: contestbell was not running when it was due.")))
        letter = _Letter(subject, _("Contest reminder"), paragraphs)
        return _render(letter, to, language, from_address=from_address, base_url=base_url, now=now,
                       calendar=contests_calendar(contests, now),
                       calendar_name="contest.ics" if len(contests) == 1 else "contests.ics")


def notice_email(i18n: I18n, locale: Locale, to: Mailbox, notice: Notice, *, from_address: str,
                 base_url: str, now: datetime | None = None) -> EmailMessage:
    """A contest people were reminded of moved (old and new start in their zone) or was cancelled; the .ics
    updates or cancels the event they may have saved."""
    now = now or datetime.now(UTC)
    zone, language = zone_of(locale.timezone), locale.language
    contest = notice.contest
    with speaking(i18n, language):
        if notice.kind == "moved":
            subject = _("Contest moved: {title}").format(title=contest.title)
            paragraphs = [_both(_("{title} has moved."), title=contest.title)]
            if notice.old_start is not None:
                paragraphs.append(_both(_("It was to start {time}."),
                                        time=local_time(notice.old_start, zone, language)))
            paragraphs.append(_both(_("Now it starts {time}."), time=local_time(contest.start, zone, language)))
            paragraphs.append(_contest_block(contest, zone, language, now))
            heading = _("Contest moved")
        else:
            subject = _("Contest cancelled: {title}").format(title=contest.title)
            paragraphs = [
                _both(_("{title} has been cancelled."), title=contest.title),
                _both(_("It was to start {time}."), time=local_time(notice.old_start or contest.start, zone,
                                                                    language)),
            ]
            heading = _("Contest cancelled")
        return _render(_Letter(subject, heading, paragraphs), to, language, from_address=from_address,
                       base_url=base_url, now=now,
                       calendar=contests_calendar([contest], now, cancelled=notice.kind == "cancelled"))


def verification_email(i18n: I18n, to: PendingMailbox, language: str, *, from_address: str, base_url: str,
                       now: datetime | None = None) -> EmailMessage:
    """The link that proves the address belongs to whoever asked for reminders there (its own token: the
    unsubscribe link, in this email too, never confirms)."""
    now = now or datetime.now(UTC)
    if not to.verify_token:
        raise ValueError(f"{to.address} has no token for its verification link")
    link = verify_link(base_url, to.verify_token)
    with speaking(i18n, language):
        action = _("Confirm this address")
        letter = _Letter(_("Confirm your email for contest reminders"), _("Confirm your email"), [
            _both(_("Someone, hopefully you, asked contestbell to send contest reminders to {address}."),
                  address=to.address),
            (f"{action}: {link}", f'<a href="{escape(link, quote=True)}">{escape(action)}</a>'),
            _both(_("If it was not you, ignore this email: nothing will be sent until the address is confirmed.")),
        ])
        return _render(letter, to, language, from_address=from_address, base_url=base_url, now=now)


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
