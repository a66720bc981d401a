"""Who may change a chat's settings: anyone in a private chat, administrators in groups and channels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

ADMIN_STATUSES = {"creator", "administrator"}


async def may_change_settings(bot: Bot, event: Message | CallbackQuery) -> bool:
    message = event if isinstance(event, Message) else event.message
    chat = message.chat if message else None
    if chat is None or chat.type in ("private", "channel"):  # only a channel's admins can post in it
        return True
    if isinstance(event, Message) and event.sender_chat is not None and event.sender_chat.id == chat.id:
        return True  # an anonymous group administrator
    member = await bot.get_chat_member(chat.id, event.from_user.id)
    return member.status in ADMIN_STATUSES


def admins_only(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """In groups, only administrators get past; others get a polite refusal and nothing changes."""

    @wraps(handler)
    async def guarded(event: Message | CallbackQuery, *args: Any, **kwargs: Any) -> Any:
        if await may_change_settings(event.bot, event):
            return await handler(event, *args, **kwargs)
        refusal = _("Sorry, only the chat's administrators can change its settings.")
        if isinstance(event, CallbackQuery):
            await event.answer(refusal, show_alert=True)
        else:
            await event.reply(refusal)
        return None

    return guarded
