"""The webhook route, with everything from outside checked before it becomes work: the secret header (compared
as bytes, so any header value is just a wrong secret: 401), then the body. A body that is not a readable update
(broken or oddly encoded JSON, too deep, numbers no Telegram object has, NUL or lone surrogates in a text, JSON
that is not an update) is a 400 with one WARNING line; only a checked `Update` is handed to the dispatcher, in
the background, and whatever happens there ends in our error handler, never in an unretrieved task.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from typing import Any

import sentry_sdk
from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from notify.preferences import is_storable_text

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram's updates nest a few levels (a reply to a message with a keyboard...); 64 is far beyond any of them
MAX_DEPTH = 64
#: seconds a stopping web process gives the updates it already answered (Telegram does not send them again)
UPDATE_GRACE = 10.0
#: every number in a Telegram object fits a signed 64-bit integer
SMALLEST, LARGEST = -(2**63), 2**63 - 1
#: what aiohttp decompresses itself: any other Content-Encoding leaves a body we cannot read
READABLE_ENCODINGS = frozenset({"", "identity", "gzip", "deflate", "br"})


class NotAnUpdate(ValueError):
    """Why a webhook body was refused (a short reason for the log, never the body itself)."""


def _refuse_constant(name: str) -> Any:
    raise NotAnUpdate(f"JSON holds {name}")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except NotAnUpdate:
        raise
    except RecursionError:
        raise NotAnUpdate("JSON nested too deeply") from None
    except ValueError as error:  # malformed JSON, not UTF-8, a number too long to read
        raise NotAnUpdate(f"not JSON ({type(error).__name__})") from None


def check_values(payload: Any) -> None:
    """Walk the decoded JSON (without recursion): depth, numbers and texts within what Telegram sends."""
    pending = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise NotAnUpdate(f"JSON nested deeper than {MAX_DEPTH}")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if not is_storable_text(value):
                raise NotAnUpdate("a text holds NUL or a lone surrogate")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and not SMALLEST <= value <= LARGEST:
            raise NotAnUpdate("a number beyond 64 bits")
        elif isinstance(value, float) and not math.isfinite(value):
            raise NotAnUpdate("a number that is not finite")


def readable_update(payload: Any, bot: Bot) -> Update:
    if not isinstance(payload, dict):
        raise NotAnUpdate(f"JSON is a {type(payload).__name__}, not an object")
    check_values(payload)
    try:
        return Update.model_validate(payload, context={"bot": bot})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise NotAnUpdate(f"not an update ({error.error_count()} problems; first at {where or 'top'}: "
                          f"{first['type']})") from None


async def read_update(request: web.Request, bot: Bot) -> Update:
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in READABLE_ENCODINGS:
        raise NotAnUpdate(f"Content-Encoding {encoding[:20]!r} is not one we read")
    try:
        body = await request.read()
    except web.RequestPayloadError:  # the body did not decompress as its Content-Encoding says
        raise NotAnUpdate(f"the body is not {encoding}") from None
    return readable_update(parse_json(body), bot)


def is_secret(sent: str, secret: str) -> bool:
    """Constant time, on bytes: a header that is not ASCII is a wrong secret like any other (aiohttp hands
    undecodable header bytes over as surrogates)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), secret.encode())


class CheckedWebhook(SimpleRequestHandler):
    """aiogram's webhook handler (answers at once, handles the update in the background), with the checks above."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        return self.secret_token is not None and is_secret(telegram_secret_token, self.secret_token)

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = await read_update(request, bot)
        except NotAnUpdate as problem:
            log.warning("webhook: refused a request from %s: %s", request.remote, problem)
            return web.json_response({"ok": False, "description": "not a readable update"}, status=400)
        task = asyncio.create_task(self._handle_checked(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({})

    async def close(self) -> None:
        """Shutdown: the updates in hand are handled before the bot's session closes (they were answered at once,
        so Telegram will not send them again)."""
        if self._background_feed_update_tasks:
            await asyncio.wait(self._background_feed_update_tasks, timeout=UPDATE_GRACE)
        await super().close()

    async def _handle_checked(self, bot: Bot, update: Update) -> None:
        try:
            result = await self.dispatcher.feed_update(bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=bot, result=result)
        except Exception as error:  # the error handler answers handlers' errors: this is past it, a bug of ours
            log.exception("update %s could not be handled", update.update_id)
            sentry_sdk.capture_exception(error)
