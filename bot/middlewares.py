"""Update middlewares: flood control first (before any database work), then the chat's account and
its language for everything that follows (error handlers included)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.accounts import chat_account, private_chat_of
from notify.i18n import N_, pick_language

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
SLOW_DOWN = N_("Easy there: that was a lot of commands at once. Try again in a few seconds.")


class FloodControl(BaseMiddleware):
    """At most `burst` messages and button presses per user in `window` seconds; past that the user is told
    once to slow down and further updates are dropped until the window has room again."""

    def __init__(self, i18n: I18n, burst: int = 8, window: float = 10.0, remembered: int = 50_000) -> None:
        self.i18n, self.burst, self.window, self.remembered = i18n, burst, window, remembered
        self._recent: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if not isinstance(event, Update) or user is None or (event.message is None and event.callback_query is None):
            return await handler(event, data)
        if self.allow(user.id, time.monotonic()):
            self._warned.discard(user.id)
            return await handler(event, data)
        if user.id not in self._warned:
            self._warned.add(user.id)
            await self.ask_to_slow_down(event, user)
        return None

    def allow(self, user_id: int, now: float) -> bool:
        recent = self._recent.pop(user_id, None) or deque()
        while recent and now - recent[0] > self.window:
            recent.popleft()
        self._recent[user_id] = recent
        if len(self._recent) > self.remembered:
            self._recent.popitem(last=False)
        if len(recent) >= self.burst:
            return False
        recent.append(now)
        return True

    async def ask_to_slow_down(self, update: Update, user: User) -> None:
        locale = pick_language(self.i18n, user.language_code)
        text = self.i18n.gettext(SLOW_DOWN, locale=locale)
        if update.message is not None:
            await update.message.answer(text)
        elif update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=False)


class ChatAccount(BaseMiddleware):
    """Puts the chat's `tg_chat` and `account` in the handler data (creating them on first contact)."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat") or (private_chat_of(user) if user else None)
        if chat is not None:
            language = pick_language(self.i18n, user.language_code if user else None)
            tg_chat = await chat_account(chat, language)
            data["tg_chat"], data["account"] = tg_chat, tg_chat.account
        return await handler(event, data)


class AccountLanguage(I18nMiddleware):
    """Speaks the account's language (set by /language; at first the user's Telegram language)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        account = data.get("account")
        return account.language if account is not None else self.i18n.default_locale
