"""A fake Telegram Bot API server over real HTTP: records every call, answers like Telegram, and can be
told to answer a method with an error (429 with retry_after, 403, 400) or to hand out updates to
long polling. The bot under test reaches it through CONTESTBELL_TELEGRAM_API_BASE."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.captures import capture_json

TOKEN = "123456:TEST-token"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    def markup(self) -> dict[str, Any]:
        return self.params.get("reply_markup") or {}

    def buttons(self) -> list[dict[str, Any]]:
        return [button for row in self.markup().get("inline_keyboard", []) for button in row]


def decode(value: str) -> Any:
    """aiogram sends form fields; nested objects (keyboards, entities) arrive as JSON strings."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class FakeTelegram:
    def __init__(self, username: str = "simrsjsonbot", admins: dict[int, set[int]] | None = None) -> None:
        me = capture_json("telegram/getMe_2023-08-21_body.json")["result"]
        self.me = {**me, "username": username, "supports_inline_queries": True}
        self.calls: list[Call] = []
        self.admins = admins or {}  # chat id -> user ids that are administrators
        self.send_delay = 0.0  # seconds each sendMessage takes (to slow a fan-out down)
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._message_ids = itertools.count(1000)
        self._shown: dict[tuple[int, int], tuple[str, Any]] = {}  # (chat, message) -> (text, keyboard)
        self._update_ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/bot{token}/{method}", self.handle)

    # what tests use

    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """The next call of `method` gets this error (e.g. 429 with retry_after=3, 403 blocked)."""
        self.failures.setdefault(method, []).append((status, {"description": description, **parameters}))

    def queue_update(self, update: dict[str, Any]) -> None:
        self.updates.put_nowait(update)

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    async def wait_for(self, method: str = "sendMessage", count: int = 1, chat_id: int | None = None,
                       timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(found := self.sent(method, chat_id)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} x{count} not received; calls: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)
        return found

    # the server

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response(capture_json("telegram/error_401_unauthorized_2023-08-21_body.json"),
                                     status=401)
        method = request.match_info["method"]
        params = await parameters_of(request)
        if method != "getUpdates":
            self.calls.append(Call(method, params))
        if self.failures.get(method):
            status, body = self.failures[method].pop(0)
            return web.json_response({"ok": False, "error_code": status, **error_body(body)}, status=status)
        if method == "sendMessage" and self.send_delay:
            await asyncio.sleep(self.send_delay)
        if method == "editMessageText" and self.unchanged(params):
            return web.json_response({"ok": False, "error_code": 400, "description": NOT_MODIFIED}, status=400)
        result = await self.result(method, params)
        if method != "getUpdates":
            self.calls[-1].result = result
        return web.json_response({"ok": True, "result": result})

    async def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self.me
        if method in ("sendMessage", "editMessageText"):
            return self.message(params)
        if method == "getChatMember":
            chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
            status = "administrator" if user_id in self.admins.get(chat_id, set()) else "member"
            return chat_member(user_id, status)
        if method == "getUpdates":
            return await self.pending_updates(float(params.get("timeout", 0)))
        return True

    def unchanged(self, params: dict[str, Any]) -> bool:
        """Telegram refuses an edit that changes neither the text nor the keyboard."""
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        return self._shown.get(key) == (str(params.get("text", "")), params.get("reply_markup"))

    def message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = int(params.get("message_id") or next(self._message_ids))
        self._shown[(chat_id, message_id)] = (str(params.get("text", "")), params.get("reply_markup"))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "chat"},
            "from": {"id": self.me["id"], "is_bot": True, "first_name": self.me["first_name"],
                     "username": self.me["username"]},
            "text": str(params.get("text", "")),
        }

    async def pending_updates(self, timeout: float) -> list[dict[str, Any]]:
        try:
            first = await asyncio.wait_for(self.updates.get(), timeout=min(timeout, 0.5) or 0.01)
        except TimeoutError:
            return []
        batch = [first]
        while not self.updates.empty():
            batch.append(self.updates.get_nowait())
        return [{**update, "update_id": update.get("update_id") or next(self._update_ids)} for update in batch]


async def parameters_of(request: web.Request) -> dict[str, Any]:
    """A method's parameters, sent as JSON (as the reminder sender does) or as a form (as aiogram does)."""
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    form = await request.post()
    return {key: decode(value) for key, value in form.items() if isinstance(value, str)}


def error_body(body: dict[str, Any]) -> dict[str, Any]:
    """429 and migrations carry their numbers in `parameters`, as Telegram does."""
    parameters = {key: body.pop(key) for key in ("retry_after", "migrate_to_chat_id") if key in body}
    return {**body, "parameters": parameters} if parameters else body


def chat_member(user_id: int, status: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Member"}
    if status == "administrator":
        return {"status": status, "user": user, "can_be_edited": False, "is_anonymous": False,
                "can_manage_chat": True, "can_delete_messages": True, "can_manage_video_chats": True,
                "can_restrict_members": True, "can_promote_members": False, "can_change_info": True,
                "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
                "can_delete_stories": False, "can_send_welcome_messages": False}
    return {"status": status, "user": user}
