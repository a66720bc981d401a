"""Sends one message to one Telegram chat within the limits, and acts on what Telegram answers.

- 429: every send of the bot pauses for `retry_after` (through the limiter), then the message is retried.
- 403 (the bot was blocked or kicked) and "chat not found": the chat is deactivated; no retry.
- A group that became a supergroup: its settings follow the new id and the message is sent there.
- 5xx, network errors and timeouts: retried with exponential backoff, then reported as failed.

`TelegramChannel` is Telegram behind the channel protocol (notify/channel.py): an account's active chats are
its addresses; a batch becomes one HTML message per chat (rendered once per contest, language, zone and
moment, however many people get it), with the two buttons a single contest's message carries: "again in 10 min"
when that lands before the start (else "remind me at the start", or nothing once it started), and open the contest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import aiohttp
from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from pydantic import Field
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from models.account import TelegramChat
from models.chats import follow_migration, set_active
from models.metrics import TELEGRAM_429, TELEGRAM_REQUESTS, TELEGRAM_SENDS
from notify.channel import SENT, Batch, ChannelName, Content, Outgoing, Reminders, Result, failed, gone
from notify.limits import Limiter
from notify.messages import ContestInfo, Locale, Notice
from notify.render import at_start_label, notice_text, open_label, reminder_text, snooze_label

log = logging.getLogger(__name__)

#: descriptions of 400 answers that mean the chat is gone for good (lower case)
GONE_CHAT = ("chat not found",)
#: how many 429 pauses and migrations one message may go through before it is given up
MAX_DETOURS = 8
#: the largest id an integer column holds, and the longest snooze a button may ask for
MAX_ROW_ID = 2**31 - 1
MAX_SNOOZE_MINUTES = 24 * 60
#: the snooze a reminder's button offers
SNOOZE_MINUTES = 10
#: messages in flight at once: enough to keep 30/s going while Telegram takes its time to answer
CONCURRENCY = 32


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the chat blocked or removed the bot, or no longer exists: now inactive
    FAILED = "failed"  # anything else; `error` says what


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    chat_id: int  # where the message went (or would have): the new id after a migration
    message_id: int | None = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


class Snooze(CallbackData, prefix="snooze"):
    """The reminder's "again in N minutes" button."""

    contest_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
    minutes: Annotated[int, Field(ge=1, le=MAX_SNOOZE_MINUTES)] = SNOOZE_MINUTES


class RemindAtStart(CallbackData, prefix="atstart"):
    """The reminder's "remind me at the start" button, offered where a snooze would land after the start."""

    contest_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


def reminder_keyboard(url: str, open_text: str, again: InlineKeyboardButton | None = None) -> InlineKeyboardMarkup:
    """The "again" button (`again_button`) when there is one, and the open-the-contest button."""
    return InlineKeyboardMarkup(inline_keyboard=[[*([again] if again else []),
                                                  InlineKeyboardButton(text=open_text, url=url)]])


def again_button(i18n: I18n, language: str, contest: ContestInfo, now: datetime) -> InlineKeyboardButton | None:
    """"Again in 10 min" when that lands before the start; otherwise "remind me at the start" while the contest has
    not started; after that nothing (a reminder that arrives late must not offer what cannot work)."""
    if now + timedelta(minutes=SNOOZE_MINUTES) < contest.start:
        return InlineKeyboardButton(text=snooze_label(i18n, language, SNOOZE_MINUTES),
                                    callback_data=Snooze(contest_id=contest.id, minutes=SNOOZE_MINUTES).pack())
    if now < contest.start:
        return InlineKeyboardButton(text=at_start_label(i18n, language),
                                    callback_data=RemindAtStart(contest_id=contest.id).pack())
    return None


class Transient(Exception):
    """A 5xx answer, a network error or a timeout: worth another try."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the Bot API said to a sendMessage (only what the sender acts on)."""

    status: int
    description: str = ""
    message_id: int | None = None
    retry_after: float | None = None
    migrate_to: int | None = None

    @classmethod
    def read(cls, status: int, body: bytes) -> Answer:
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return cls(status, f"{status}: not a Bot API answer")
        result, parameters = answer.get("result"), answer.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return cls(status, str(answer.get("description") or status)[:300],
                   message_id if isinstance(message_id, int) else None,
                   _number(parameters.get("retry_after")), _whole(parameters.get("migrate_to_chat_id")))

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.message_id is not None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 86400 \
        else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def markup_json(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    """The keyboard as the Bot API takes it in a JSON body."""
    return markup.model_dump(mode="json", exclude_none=True) if markup is not None else None


class TelegramSender:
    """Sends with one JSON POST per message on the bot's own HTTP session, reading back only what it acts on:
    a fan-out of thousands spends its time on the wire, not on building and validating aiogram objects.

    `attempts` tries per send for transient errors, waiting about `backoff`, 2×, 4× ... seconds (at most
    `max_backoff`) in between; each try waits its turn in the limiter again."""

    def __init__(self, bot: Bot, limiter: Limiter, *, attempts: int = 4, backoff: float = 1.0,
                 max_backoff: float = 30.0, request_timeout: float = 15.0) -> None:
        self.bot = bot
        self.limiter = limiter
        self.url = bot.session.api.api_url(token=bot.token, method="sendMessage")
        self.timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._retry = {"retry": retry_if_exception_type(Transient), "stop": stop_after_attempt(attempts),
                       "reraise": True,
                       "wait": wait_exponential_jitter(multiplier=backoff, max=max_backoff, jitter=backoff)}

    async def send(self, chat_id: int, text: str,
                   reply_markup: InlineKeyboardMarkup | dict[str, Any] | None = None) -> SendResult:
        """Every answer of Telegram ends in a SendResult; an error of the limiter itself (Redis down) is raised."""
        markup = reply_markup if isinstance(reply_markup, dict) or reply_markup is None else markup_json(reply_markup)
        for _ in range(MAX_DETOURS + 1):
            try:
                answer = await self._deliver(chat_id, text, markup)
            except Transient as error:  # after the last attempt
                log.warning("sending to chat %s failed: %s", chat_id, error, extra={"chat_id": chat_id})
                return SendResult(Outcome.FAILED, chat_id, error=str(error))
            if answer.ok:
                return SendResult(Outcome.SENT, chat_id, answer.message_id)
            if answer.status == 429:
                wait = answer.retry_after if answer.retry_after is not None else 1.0
                TELEGRAM_429.inc()
                log.warning("telegram asks to wait %s s (chat %s): pausing every send", wait, chat_id,
                            extra={"chat_id": chat_id})
                await self.limiter.pause_all(wait)
            elif answer.migrate_to is not None:
                log.info("chat %s became supergroup %s", chat_id, answer.migrate_to, extra={"chat_id": chat_id})
                await follow_migration(chat_id, answer.migrate_to)
                chat_id = answer.migrate_to
            elif answer.status == 403 or (answer.status == 400 and any(
                    gone in answer.description.lower() for gone in GONE_CHAT)):
                return await self._gone(chat_id, answer.description)
            else:
                return SendResult(Outcome.FAILED, chat_id, error=f"{answer.status}: {answer.description}")
        return SendResult(Outcome.FAILED, chat_id, error=f"gave up after {MAX_DETOURS} flood waits or migrations")

    async def _deliver(self, chat_id: int, text: str, markup: dict[str, Any] | None) -> Answer:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                                   "link_preview_options": {"is_disabled": True}}
        if markup is not None:
            payload["reply_markup"] = markup
        async for attempt in AsyncRetrying(**self._retry):
            with attempt:
                await self.limiter.wait_turn(chat_id)
                TELEGRAM_REQUESTS.inc()
                TELEGRAM_SENDS.mark()
                return await self._post(payload)
        raise AssertionError("tenacity either returns or reraises")

    async def _post(self, payload: dict[str, Any]) -> Answer:
        session = await self.bot.session.create_session()
        try:
            async with session.post(self.url, json=payload, timeout=self.timeout) as response:
                answer = Answer.read(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Transient(f"{type(error).__name__}: {error}") from error
        if answer.status >= 500:
            raise Transient(f"{answer.status}: {answer.description}")
        return answer

    async def _gone(self, chat_id: int, description: str) -> SendResult:
        log.info("chat %s is gone (%s): deactivated", chat_id, description, extra={"chat_id": chat_id})
        await set_active(chat_id, False)
        return SendResult(Outcome.BLOCKED, chat_id, error=description)


class TelegramChannel:
    """Reminders and notices to every active Telegram chat of an account."""

    name: ClassVar[ChannelName] = ChannelName.TELEGRAM
    batch_size = 1

    def __init__(self, i18n: I18n, sender: TelegramSender, concurrency: int = CONCURRENCY) -> None:
        self.i18n, self.sender, self.concurrency = i18n, sender, concurrency

    async def reachable(self) -> dict[int, tuple[int, ...]]:
        chats: dict[int, tuple[int, ...]] = {}
        for account_id, chat_id in await TelegramChat.filter(active=True).order_by("id").values_list(
                "account_id", "chat_id"):
            chats[account_id] = (*chats.get(account_id, ()), chat_id)
        return chats

    def render(self, batch: Batch) -> list[Outgoing]:
        message = telegram_message(self.i18n, batch.content, batch.locale, batch.now)
        return [Outgoing(chat_id, message) for chat_id in batch.addresses]

    async def send(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        return [await self._send(item) for item in outgoing]

    async def _send(self, item: Outgoing) -> Result:
        text, markup = item.payload
        result = await self.sender.send(item.address, text, markup)
        if result.outcome is Outcome.SENT:
            return SENT
        if result.outcome is Outcome.BLOCKED:
            return gone(result.error or "the chat is gone")
        return failed(result.error or "not delivered")


@lru_cache(maxsize=4096)
def telegram_message(i18n: I18n, content: Content, locale: Locale, now: datetime
                     ) -> tuple[str, dict[str, Any] | None]:
    """The text and buttons of a batch: the same for everyone who reads it in this language and zone at this
    moment, so a fan-out renders each once."""
    if isinstance(content, Reminders):
        single = content.items[0].contest if len(content.items) == 1 else None
        return reminder_text(i18n, locale, content.items, now), markup_json(_buttons(i18n, locale, single, now))
    return notice_text(i18n, locale, content, now), markup_json(_buttons(i18n, locale, _moved_contest(content), now))


def _moved_contest(notice: Notice) -> ContestInfo | None:
    return notice.contest if notice.kind == "moved" else None


def _buttons(i18n: I18n, locale: Locale, contest: ContestInfo | None, now: datetime) -> InlineKeyboardMarkup | None:
    """A single contest's message carries a way to be reminded again (when one can work) and a link to the contest."""
    if contest is None:
        return None
    return reminder_keyboard(contest.url, open_label(i18n, locale.language),
                             again_button(i18n, locale.language, contest, now))
