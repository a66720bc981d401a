"""Discord: contest reminders posted to a channel through the webhook its owner pasted.

A webhook URL is a capability (whoever holds it may post to that channel) and it comes from outside, so:
- Only Discord's own webhook URLs are accepted (`parse_webhook_url`), and only their id and token are kept. Every
  request goes to the configured API base (CONTESTBELL_DISCORD_API_BASE), never to a host someone typed: a pasted
  URL cannot make the service call anywhere else.
- The token is never logged, never put in a `Result` and never shown by `repr`: logs name the webhook id.
- Contest titles come from the sites: they are escaped for Discord's markdown, and `allowed_mentions` is empty, so
  a title like "@everyone [prize](http://evil)" neither pings anybody nor becomes a disguised link.

Discord lets one webhook take 5 requests per 2 seconds. The channel keeps that pace itself, per webhook, and also
follows the X-RateLimit headers of each answer, so a burst to one webhook meets no 429. When a 429 comes anyway
(someone else posts through the same webhook, a global limit), a short wait is waited out here and a long one goes
back to the dispatcher as "retry after". 404 and 401 mean the webhook was deleted or its token reset: the row is
dropped and its owner told (`on_gone`). 5xx answers, network errors and timeouts are retried with exponential
backoff, then reported as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
import traceback
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from multidict import CIMultiDictProxy
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from models.account import DiscordWebhook
from notify.channel import (
    SENT,
    Batch,
    ChannelName,
    Outgoing,
    Reminders,
    Result,
    failed,
    gone,
    retry_after,
)
from notify.formatting import local_time, relative, span
from notify.i18n import languages, ngettext, speaking
from notify.messages import ContestInfo, Locale, Notice
from notify.zones import zone_of

log = logging.getLogger("contestbell.discord")

# what a webhook URL may look like

#: longer text is no webhook URL (a real one is about 120 characters)
MAX_URL_LENGTH = 300
#: the hosts Discord serves webhooks on (scheme and host in any case, the path exactly)
_WEBHOOK_URL = re.compile(
    r"(?i:https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com)"
    r"/api(?:/v(?:[6-9]|10))?/webhooks/([1-9][0-9]{16,19})/([A-Za-z0-9_-]{50,100})"
)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{50,100}")
#: a snowflake is a positive signed 64-bit integer (the column is a BIGINT)
MAX_SNOWFLAKE = 2**63 - 1

# Discord's limits on a message

MAX_EMBEDS = 10
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_EMBED_URL = 2048
#: embed colours: Discord's blurple for reminders, yellow for a move, red for a cancellation
COLOURS = {"reminder": 0x5865F2, "moved": 0xF0B232, "cancelled": 0xED4245}

# sending

#: requests one webhook takes per window (Discord's documented limit), and the window in seconds
WEBHOOK_LIMIT = 5
WEBHOOK_WINDOW = 2.0
#: a 429 asking for at most this many seconds is waited out here; a longer one goes back as "retry after"
MAX_INLINE_WAIT = 10.0
#: a 429 without a usable wait: this many seconds
DEFAULT_RETRY_AFTER = 1.0
#: a longer wait is nonsense (and a hostile answer must not park a send for a day)
MAX_RETRY_AFTER = 3600.0
#: how much of an answer is read: Discord's errors are small JSON objects
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "contestbell (discord webhooks)"


# addresses


@dataclass(frozen=True, slots=True)
class DiscordAddress:
    """Where a Discord message goes: a webhook (its id and token) of an account (0 when parsed from text)."""

    account_id: int
    webhook_id: int
    token: str = field(repr=False)

    @property
    def valid(self) -> bool:
        """Whether a request built from it stays on the API base (a stored row is checked again before use)."""
        return 0 < self.webhook_id <= MAX_SNOWFLAKE and bool(_TOKEN.fullmatch(self.token))


def parse_webhook_url(text: str) -> DiscordAddress | None:
    """The webhook of a URL copied from Discord ("https://discord.com/api/webhooks/ID/TOKEN"), or None for
    anything else: another scheme or host, a port, user info, a query or fragment, extra path segments."""
    text = text.strip()
    if len(text) > MAX_URL_LENGTH or not (text.isascii() and text.isprintable()):
        return None
    match = _WEBHOOK_URL.fullmatch(text)
    if match is None:
        return None
    webhook_id = int(match[1])
    if webhook_id > MAX_SNOWFLAKE:
        return None
    return DiscordAddress(0, webhook_id, match[2])


# rendering

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()#\-<:])")
#: bidirectional overrides and isolates: they would turn the rest of a line around
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str) -> str:
    """A site's text on one line: no control or bidi characters, runs of whitespace made one space."""
    kept = "".join(c for c in text if c not in _BIDI and (c.isspace() or unicodedata.category(c) != "Cc"))
    return " ".join(kept.split())


def escape_markdown(text: str) -> str:
    """Text that shows as written in Discord: markdown characters escaped (also ":" and "<", so that "http://..."
    is no link and "<t:...>", "<#...>" are nothing), and a zero-width space after each "@" so that nothing reads
    as a mention ("@everyone", "<@123>")."""
    return _MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def shown(text: str, limit: int) -> str:
    """A site's text cleaned and escaped, at most `limit` characters (cut between characters, never inside an
    escape, with "…" when cut)."""
    text = clean(text)
    escaped = escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    parts: list[str] = []
    room = limit - 1
    for char in text:
        piece = escape_markdown(char)
        if len(piece) > room:
            break
        parts.append(piece)
        room -= len(piece)
    return "".join(parts) + "…"


def embed_url(url: str) -> str | None:
    """The contest's address when it is a plain http(s) URL Discord takes; None drops it."""
    if len(url) > MAX_EMBED_URL or not (url.isascii() and url.isprintable()) or " " in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _embed(contest: ContestInfo, kind: str, zone: tzinfo, language: str, now: datetime,
           start: datetime | None = None) -> dict[str, Any]:
    start = start or contest.start
    duration = _("Duration: {duration}").format(duration=span(contest.duration))
    embed: dict[str, Any] = {
        "title": shown(contest.title, MAX_TITLE),
        "description": f"{local_time(start, zone, language)} · {relative(start, now)}\n"
                       f"{duration} · {shown(contest.site_label, 100)}",
        "timestamp": start.astimezone(UTC).isoformat(),
        "color": COLOURS[kind],
    }
    url = embed_url(contest.url)
    if url is not None:
        embed["url"] = url
    return embed


def _fit(lines: Sequence[str], limit: int = MAX_CONTENT) -> str:
    """Lines joined, the ones past `limit` characters left off (with "…")."""
    text = ""
    for line in lines:
        longer = f"{text}\n{line}" if text else line
        if len(longer) > limit - 2:
            return text + "\n…"
        text = longer
    return text


def _reminders(content: Reminders, zone: tzinfo, language: str, now: datetime) -> dict[str, Any]:
    items = sorted(content.items, key=lambda reminder: reminder.contest.start)
    if len(items) == 1:
        lines = [_("⏰ Starting {when}:").format(when=relative(items[0].contest.start, now))]
    else:
        lines = [ngettext("⏰ {count} contest starts soon:", "⏰ {count} contests start soon:",
                          len(items)).format(count=len(items))]
    if any(reminder.late for reminder in items):
        lines.append(_("(Late: we could not send this on time, sorry.)"))
    # past the embeds a message holds, contests are lines of the text
    lines += [f"**{shown(r.contest.title, MAX_TITLE)}** · {local_time(r.contest.start, zone, language)} · "
              f"{relative(r.contest.start, now)}" for r in items[MAX_EMBEDS:]]
    return {"content": _fit(lines),
            "embeds": [_embed(r.contest, "reminder", zone, language, now) for r in items[:MAX_EMBEDS]]}


def _notice(notice: Notice, zone: tzinfo, language: str, now: datetime) -> dict[str, Any]:
    contest = notice.contest
    title = f"**{shown(contest.title, MAX_TITLE)}**"
    if notice.kind == "cancelled":
        text = _("❌ {title} on {site} was cancelled.").format(title=title, site=shown(contest.site_label, 100))
        embed = _embed(contest, "cancelled", zone, language, now, start=notice.old_start)
    else:
        old = local_time(notice.old_start, zone, language) if notice.old_start else "?"
        text = _("🔁 {title} moved: {old} → {new} ({relative}).").format(
            title=title, old=old, new=local_time(contest.start, zone, language), relative=relative(contest.start, now))
        embed = _embed(contest, "moved", zone, language, now)
    return {"content": _fit([text]), "embeds": [embed]}


@lru_cache(maxsize=1024)
def message_payload(i18n: I18n, content: Reminders | Notice, locale: Locale, now: datetime) -> dict[str, Any]:
    """The JSON body of the message for `content`, the same for every webhook it goes to (cached: a batch's
    message is made once however many times it is rendered). Callers must not change it."""
    zone = zone_of(locale.timezone)
    language = locale.language if locale.language in languages(i18n) else i18n.default_locale  # words and dates
    with speaking(i18n, language):
        if isinstance(content, Reminders):
            payload = _reminders(content, zone, language, now)
        else:
            payload = _notice(content, zone, language, now)
    return {**payload, "allowed_mentions": {"parse": []}}


def greeting_payload(i18n: I18n, language: str) -> dict[str, Any]:
    """The first message to a webhook being added: it says what will come."""
    with speaking(i18n, language):
        return {"content": _("contestbell will post contest reminders here."), "allowed_mentions": {"parse": []}}


# the pace of each webhook


@dataclass(slots=True)
class _Slot:
    """One request to a webhook: when it went out, and when its answer came (its time from then on)."""

    at: float
    flying: bool = True


@dataclass(slots=True)
class _Webhook:
    slots: list[_Slot] = field(default_factory=list)
    paused_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def idle(self, now: float) -> bool:
        return not self.slots and self.paused_until <= now and not self.lock.locked()


class WebhookPace:
    """At most `limit` requests per `window` seconds to each webhook (in this process), and pauses: one webhook's
    (its X-RateLimit headers, a 429) or everybody's (a global 429).

    A request counts from when it is sent until `window` seconds after its answer came: until then Discord may
    not have seen it, so a slow request never lets the next ones crowd into Discord's window. Callers for one
    webhook wait their turn in the order they came.
    """

    #: past this many webhooks known, idle ones are forgotten
    SWEEP_AT = 4096

    def __init__(self, limit: int = WEBHOOK_LIMIT, window: float = WEBHOOK_WINDOW) -> None:
        self.limit, self.window = limit, window
        self.paused_until = 0.0
        self._webhooks: dict[int, _Webhook] = {}

    def _webhook(self, webhook_id: int) -> _Webhook:
        state = self._webhooks.get(webhook_id)
        if state is None:
            if len(self._webhooks) >= self.SWEEP_AT:
                self._sweep()
            state = self._webhooks[webhook_id] = _Webhook()
        return state

    def _sweep(self) -> None:
        now = time.monotonic()
        for webhook_id, state in list(self._webhooks.items()):
            state.slots = [slot for slot in state.slots if slot.flying or slot.at > now - self.window]
            if state.idle(now):
                del self._webhooks[webhook_id]

    def _wait(self, state: _Webhook, now: float) -> float:
        """Seconds until a request may go (inf: until a request in flight is answered)."""
        state.slots = [slot for slot in state.slots if slot.flying or slot.at > now - self.window]
        wait = max(0.0, state.paused_until - now, self.paused_until - now)
        busy = len(state.slots) - self.limit + 1  # how many must leave the window first
        if busy > 0:
            answered = sorted(slot.at for slot in state.slots if not slot.flying)
            wait = max(wait, answered[busy - 1] + self.window - now if busy <= len(answered) else math.inf)
        return wait

    async def turn(self, webhook_id: int) -> _Slot:
        """Wait until a request to this webhook may go; the caller sends it and then calls `answered`."""
        state = self._webhook(webhook_id)
        async with state.lock:
            while (wait := self._wait(state, time.monotonic())) > 0:
                state.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.changed.wait(), None if math.isinf(wait) else wait)
            slot = _Slot(time.monotonic())
            state.slots.append(slot)
            return slot

    def answered(self, webhook_id: int, slot: _Slot) -> None:
        slot.at, slot.flying = time.monotonic(), False
        state = self._webhooks.get(webhook_id)
        if state is not None:
            state.changed.set()

    def pause(self, webhook_id: int, seconds: float) -> None:
        """No request to this webhook for `seconds`."""
        state = self._webhook(webhook_id)
        state.paused_until = max(state.paused_until, time.monotonic() + seconds)
        state.changed.set()

    def pause_all(self, seconds: float) -> None:
        """No request to any webhook for `seconds` (a global 429)."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


# Discord's answers


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: Any  # the JSON of the answer, None when it had none (or not JSON)
    headers: CIMultiDictProxy[str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self, token: str) -> str:
        """What Discord said, short and printable, without the token: "400: Invalid Form Body (code 50035)"."""
        body = self.body if isinstance(self.body, dict) else {}
        message = clean(str(body.get("message") or "")).replace(token, "<token>")[:160]
        code = body.get("code")
        described = f"discord answered {self.status}" + (f": {message}" if message else "")
        return described + (f" (code {code})" if isinstance(code, int) and not isinstance(code, bool) else "")

    def retry_after(self) -> float:
        """The wait a 429 asks for: the body's `retry_after`, else the Retry-After header, else a second."""
        body = self.body if isinstance(self.body, dict) else {}
        for value in (body.get("retry_after"), self.headers.get("Retry-After")):
            seconds = _seconds(value)
            if seconds is not None:
                return seconds
        return DEFAULT_RETRY_AFTER

    @property
    def is_global(self) -> bool:
        body = self.body if isinstance(self.body, dict) else {}
        return body.get("global") is True or self.headers.get("X-RateLimit-Global", "").lower() == "true"

    def spent(self) -> float | None:
        """Seconds until the webhook takes requests again when the headers say none is left, else None."""
        if self.headers.get("X-RateLimit-Remaining", "").strip() != "0":
            return None
        return _seconds(self.headers.get("X-RateLimit-Reset-After"))


def _seconds(value: Any) -> float | None:
    """A number of seconds from an answer (a JSON number or a header), within sense, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):  # 10**400 in JSON is an int no float holds
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


class _Unavailable(Exception):
    """A 5xx answer: worth another try."""

    def __init__(self, answer: _Answer) -> None:
        super().__init__(f"discord answered {answer.status}")
        self.answer = answer


def _describe(error: BaseException, token: str) -> str:
    """An exception for a log line or a Result: its type and message, the token (if in it) blanked out."""
    return f"{type(error).__name__}: {error}".replace(token, "<token>")[:300]


# the channel


class DiscordChannel:
    """Posts reminders and notices through the webhooks in `DiscordWebhook` (see the module's docstring).

    `attempts` tries per message for 5xx answers and network errors, waiting about `backoff`, 2×, 4× ... seconds
    in between; also at most `attempts` 429 waits of up to 10 s each. `on_gone(account_id)` is called once when an
    account's webhook turns out deleted (its row is gone by then).
    """

    name: ClassVar[ChannelName] = ChannelName.DISCORD
    concurrency = 8
    batch_size = 1

    def __init__(self, i18n: I18n, api_base: str, *, session: aiohttp.ClientSession | None = None,
                 on_gone: Callable[[int], Awaitable[None]] | None = None, attempts: int = 4, backoff: float = 1.0,
                 max_backoff: float = 30.0, request_timeout: float = 15.0) -> None:
        self.i18n = i18n
        self.api_base = _api_base(api_base)
        self.on_gone = on_gone
        self.attempts = max(1, attempts)
        self.request_timeout = request_timeout
        self.pace = WebhookPace()
        self._session = session
        self._own_session = session is None
        self._retry = {"retry": retry_if_exception_type((_Unavailable, aiohttp.ClientError, TimeoutError)),
                       "stop": stop_after_attempt(self.attempts), "reraise": True,
                       "wait": wait_exponential_jitter(multiplier=backoff, max=max_backoff, jitter=backoff)}

    async def aclose(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def reachable(self) -> dict[int, tuple[DiscordAddress, ...]]:
        rows = await DiscordWebhook.all().values_list("account_id", "webhook_id", "token")
        return {account_id: (DiscordAddress(account_id, webhook_id, token),) for account_id, webhook_id, token in rows}

    def render(self, batch: Batch) -> list[Outgoing]:
        """Reminders and notices; nothing for an empty batch or a digest (digests are email's alone)."""
        content = batch.content
        if not isinstance(content, Reminders | Notice) or (isinstance(content, Reminders) and not content.items):
            return []
        payload = message_payload(self.i18n, batch.content, batch.locale, batch.now)
        return [Outgoing(address, payload) for address in batch.addresses]

    async def send(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        return list(await asyncio.gather(*(self._send(message.address, message.payload, forget=True)
                                           for message in outgoing)))

    async def send_test(self, address: DiscordAddress, locale: Locale) -> Result:
        """A first message to a webhook someone is adding: nothing is stored yet, so a 404 only says so."""
        return await self._send(address, greeting_payload(self.i18n, locale.language), forget=False)

    # one message

    async def _send(self, address: DiscordAddress, payload: dict[str, Any], *, forget: bool) -> Result:
        if not isinstance(address, DiscordAddress) or not address.valid:
            return failed("not a Discord webhook")
        try:
            return await self._deliver(address, payload, forget=forget)
        except Exception as error:  # a bug of ours must not stop the other messages; the text is without the token
            trace = "".join(traceback.format_exception(error)).replace(address.token, "<token>")
            log.error("sending to discord webhook %s failed:\n%s", address.webhook_id, trace)
            return failed(_describe(error, address.token))

    async def _deliver(self, address: DiscordAddress, payload: dict[str, Any], *, forget: bool) -> Result:
        waits = 0
        while True:
            try:
                answer = await self._post_retrying(address, payload)
            except _Unavailable as error:
                return self._failure(address, error.answer.error(address.token))
            except (aiohttp.ClientError, TimeoutError) as error:
                return self._failure(address, _describe(error, address.token) if str(error) else
                                     f"no answer within {self.request_timeout:g} s")
            if answer.ok:
                return SENT
            if answer.status == 429:
                seconds = answer.retry_after()
                if seconds > MAX_INLINE_WAIT or waits >= self.attempts:
                    log.info("discord asks to wait %.3g s (webhook %s): handed back", seconds, address.webhook_id)
                    return retry_after(seconds, "discord rate limit" + (" (global)" if answer.is_global else ""))
                waits += 1
                self._rate_limited(address, answer, seconds)
                continue
            if answer.status in (401, 404):
                return await self._gone(address, answer, forget=forget)
            return self._failure(address, answer.error(address.token))

    async def _post_retrying(self, address: DiscordAddress, payload: dict[str, Any]) -> _Answer:
        async for attempt in AsyncRetrying(**self._retry):
            with attempt:
                answer = await self._post(address, payload)
                if answer.status >= 500:
                    raise _Unavailable(answer)
                return answer
        raise AssertionError("tenacity either returns or reraises")

    async def _post(self, address: DiscordAddress, payload: dict[str, Any]) -> _Answer:
        """One request in its turn of the webhook's pace; the answer's headers set the pace of the next."""
        url = f"{self.api_base}/api/webhooks/{address.webhook_id}/{address.token}?wait=false"
        slot = await self.pace.turn(address.webhook_id)
        try:
            async with self._client().post(url, json=payload, allow_redirects=False, headers={"User-Agent": USER_AGENT},
                                           timeout=aiohttp.ClientTimeout(total=self.request_timeout)) as response:
                answer = _Answer(response.status, _json(await _head(response)), response.headers)
        finally:
            self.pace.answered(address.webhook_id, slot)
        spent = answer.spent()
        if spent:
            self.pace.pause(address.webhook_id, min(spent, MAX_INLINE_WAIT))
        return answer

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout))
        return self._session

    def _rate_limited(self, address: DiscordAddress, answer: _Answer, seconds: float) -> None:
        if answer.is_global:
            log.warning("discord asks every webhook to wait %.3g s (after webhook %s)", seconds, address.webhook_id)
            self.pace.pause_all(seconds)
        else:
            log.info("discord asks webhook %s to wait %.3g s", address.webhook_id, seconds)
            self.pace.pause(address.webhook_id, seconds)

    def _failure(self, address: DiscordAddress, error: str) -> Result:
        log.warning("discord webhook %s: message not sent: %s", address.webhook_id, error)
        return failed(error)

    async def _gone(self, address: DiscordAddress, answer: _Answer, *, forget: bool) -> Result:
        error = answer.error(address.token)
        if forget:
            log.info("discord webhook %s is gone (%s): forgotten", address.webhook_id, error)
            await self._forget(address)
        return gone(error)

    async def _forget(self, address: DiscordAddress) -> None:
        """Drop the rows that still name this webhook with this token, and tell each owner once (a webhook
        answered 404 to two messages at once is forgotten, and told about, by one of them)."""
        try:
            rows = await DiscordWebhook.filter(webhook_id=address.webhook_id, token=address.token).values_list(
                "id", "account_id")
            forgotten = [account_id for row_id, account_id in rows
                         if await DiscordWebhook.filter(id=row_id, webhook_id=address.webhook_id,
                                                        token=address.token).delete()]
        except Exception as error:
            log.error("discord webhook %s is gone, but forgetting it failed: %s", address.webhook_id,
                      _describe(error, address.token))
            return
        for account_id in forgotten:
            if self.on_gone is None:
                continue
            try:
                await self.on_gone(account_id)
            except Exception as error:
                log.error("telling account %s that its discord webhook is gone failed: %s", account_id,
                          _describe(error, address.token))


def _api_base(url: str) -> str:
    """The API base without its trailing slash; refused when it is no plain http(s) address."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"not an API base for Discord: {url!r}")
    return url.strip().rstrip("/")


async def _head(response: aiohttp.ClientResponse, most: int = MAX_ANSWER_BYTES) -> bytes:
    """The body of an answer, or its first `most` bytes: a hostile server can't make us read gigabytes."""
    chunks: list[bytes] = []
    size = 0
    while size < most and (chunk := await response.content.read(most - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None


async def store_webhook(account_id: int, address: DiscordAddress) -> None:
    """One webhook per account: a new one replaces the old."""
    if not await DiscordWebhook.filter(account_id=account_id).update(webhook_id=address.webhook_id,
                                                                      token=address.token):
        await DiscordWebhook.create(account_id=account_id, webhook_id=address.webhook_id, token=address.token)
