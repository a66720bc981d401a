"""A fake Discord webhook API over real HTTP: `POST /api[/vN]/webhooks/{id}/{token}` as Discord answers it.

It knows which webhooks exist (`add_webhook`): an unknown id gets 404 "Unknown Webhook", a wrong token 401
"Invalid Webhook Token". It keeps Discord's limit of 5 requests per 2 s per webhook (a sliding window: a request
refused with 429 does not count) and sends the X-RateLimit headers with every answer. It checks a message against
Discord's limits (content, embeds, titles) and answers 400 "Invalid Form Body" as Discord does. `fail_next` queues
a forced answer (a 429 with its wait, a 500, a 400 ...) for the next request to any webhook.

The answers' wording and codes are Discord's (docs: "JSON error codes", "Rate limits"); no capture of them exists
in ../shared/fixtures. The channel under test reaches it through its `api_base`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LIMIT = 5
WINDOW = 2.0
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
INVALID_TOKEN = {"message": "Invalid Webhook Token", "code": 50027}
EMPTY_MESSAGE = {"message": "Cannot send an empty message", "code": 50006}


def rate_limited(seconds: float, is_global: bool = False) -> dict[str, Any]:
    """The body of Discord's 429."""
    return {"message": "You are being rate limited.", "retry_after": seconds, "global": is_global}


def invalid_form(problem: str) -> dict[str, Any]:
    """The body of Discord's 400 for a message it won't take (the field errors shortened to one line)."""
    return {"message": "Invalid Form Body", "code": 50035, "errors": {"_problem": problem}}


@dataclass
class Call:
    """One request that reached a webhook: its JSON body and when it arrived (time.monotonic)."""

    webhook_id: int
    body: Any
    status: int
    at: float = field(default_factory=time.monotonic)
    version: str | None = None  # "v10" when the path named an API version

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.body.get("embeds") or [] if isinstance(self.body, dict) else []

    @property
    def content(self) -> str:
        return self.body.get("content") or "" if isinstance(self.body, dict) else ""


@dataclass
class Forced:
    status: int
    body: Any
    retry_after: float | None
    headers: dict[str, str] | None = None


class FakeDiscord:
    def __init__(self, limit: int = LIMIT, window: float = WINDOW) -> None:
        self.limit, self.window = limit, window
        self.webhooks: dict[int, str] = {}
        self.calls: list[Call] = []  # accepted messages (2xx)
        self.received: list[Call] = []  # every request to a webhook path, whatever the answer
        self.refused = 0  # 429s given (rate limit or forced)
        self.forced: deque[Forced] = deque()
        self.queries: list[dict[str, str]] = []
        self.strays: list[str] = []  # requests to any other path (a followed redirect would land here)
        self._stalled: asyncio.Event | None = None
        self._recent: dict[int, deque[float]] = {}  # webhook id -> arrivals counted in its window
        self._arrived = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_post("/api/webhooks/{id}/{token}", self.handle)
        self.app.router.add_post("/api/{version:v[0-9]+}/webhooks/{id}/{token}", self.handle)
        self.app.router.add_route("*", "/{tail:.*}", self.stray)

    # what tests use

    def add_webhook(self, webhook_id: int, token: str) -> None:
        self.webhooks[webhook_id] = token

    def fail_next(self, status: int, body: Any = None, retry_after: float | None = None, *,
                  headers: dict[str, str] | None = None) -> None:
        """The next request (to any webhook) gets this answer; `retry_after` also sets the Retry-After header."""
        self.forced.append(Forced(status, body, retry_after, headers))

    def stall(self) -> None:
        """Requests get no answer until `release` (a Discord that hangs)."""
        self._stalled = asyncio.Event()

    def release(self) -> None:
        if self._stalled is not None:
            self._stalled.set()
            self._stalled = None

    def sent(self, webhook_id: int | None = None) -> list[Call]:
        return [call for call in self.calls if webhook_id is None or call.webhook_id == webhook_id]

    async def wait_for(self, count: int = 1, timeout: float = 5.0, webhook_id: int | None = None) -> list[Call]:
        """The accepted calls once there are `count` of them (to `webhook_id`, when given)."""
        await self._until(lambda: len(self.sent(webhook_id)) >= count, f"{count} messages", timeout)
        return self.sent(webhook_id)

    async def wait_received(self, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Every request answered so far (whatever the answer), once there are `count` of them."""
        await self._until(lambda: len(self.received) >= count, f"{count} requests", timeout)
        return list(self.received)

    async def _until(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(condition), timeout)
            except TimeoutError:
                raise AssertionError(f"{what} not received within {timeout} s; got "
                                     f"{[(c.webhook_id, c.status) for c in self.received]}") from None

    # the server

    async def stray(self, request: web.Request) -> web.Response:
        self.strays.append(f"{request.method} {request.path}")
        return web.json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def handle(self, request: web.Request) -> web.Response:
        if self._stalled is not None:
            await self._stalled.wait()
        try:
            webhook_id = int(request.match_info["id"])
        except ValueError:
            return self.answer(400, {"message": "Invalid Form Body", "code": 50035}, None)
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(webhook_id, body, 0, version=request.match_info.get("version"))
        self.queries.append(dict(request.query))
        call.status, response = self.respond(call, request.match_info["token"])
        async with self._arrived:
            self.received.append(call)
            if 200 <= call.status < 300:
                self.calls.append(call)
            self._arrived.notify_all()
        return response

    def respond(self, call: Call, token: str) -> tuple[int, web.Response]:
        now = call.at
        if self.forced:
            forced = self.forced.popleft()
            if forced.status == 429:
                self.refused += 1
            else:
                self.count(call.webhook_id, now)
            response = self.answer(forced.status, forced.body, call.webhook_id, forced.retry_after)
            response.headers.update(forced.headers or {})
            return forced.status, response
        if call.webhook_id not in self.webhooks:
            return 404, self.answer(404, UNKNOWN_WEBHOOK, None)
        if self.webhooks[call.webhook_id] != token:
            return 401, self.answer(401, INVALID_TOKEN, None)
        recent = self.window_of(call.webhook_id, now)
        if len(recent) >= self.limit:
            self.refused += 1
            wait = round(recent[0] + self.window - now, 3)
            return 429, self.answer(429, rate_limited(wait), call.webhook_id, wait)
        self.count(call.webhook_id, now)
        problem = problems(call.body)
        if problem is not None:
            return 400, self.answer(400, EMPTY_MESSAGE if problem == "empty" else invalid_form(problem),
                                    call.webhook_id)
        return 204, self.answer(204, None, call.webhook_id)

    def window_of(self, webhook_id: int, now: float) -> deque[float]:
        recent = self._recent.setdefault(webhook_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent

    def count(self, webhook_id: int, now: float) -> None:
        self.window_of(webhook_id, now).append(now)

    def answer(self, status: int, body: Any, webhook_id: int | None, retry_after: float | None = None) -> web.Response:
        headers = self.limit_headers(webhook_id) if webhook_id is not None else {}
        if retry_after is not None:
            headers["Retry-After"] = str(math.ceil(retry_after))
        if isinstance(body, dict) and body.get("global") is True:
            headers["X-RateLimit-Global"] = "true"
        if body is None:
            return web.Response(status=status, headers=headers)
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    def limit_headers(self, webhook_id: int) -> dict[str, str]:
        now = time.monotonic()
        recent = self.window_of(webhook_id, now)
        reset_after = recent[0] + self.window - now if recent else 0.0
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(max(0, self.limit - len(recent))),
                "X-RateLimit-Reset-After": f"{max(0.0, reset_after):.3f}", "X-RateLimit-Bucket": f"wh{webhook_id}"}


def problems(body: Any) -> str | None:
    """What Discord would refuse in a message body ("empty" for no content and no embeds), or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    content, embeds = body.get("content") or "", body.get("embeds") or []
    if not content and not embeds:
        return "empty"
    if len(content) > 2000:
        return "content: must be 2000 or fewer in length"
    if len(embeds) > 10:
        return "embeds: must be 10 or fewer in length"
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        if len(title) > 256:
            return "embeds.title: must be 256 or fewer in length"
        if len(description) > 4096:
            return "embeds.description: must be 4096 or fewer in length"
        if "url" in embed and not str(embed["url"]).startswith(("http://", "https://")):
            return "embeds.url: Scheme must be one of ('http', 'https')"
        total += len(title) + len(description)
    if total > 6000:
        return "embeds: the embeds hold more than 6000 characters"
    return None
