"""Channel posts are handled as messages: an administrator's `/upcoming` or `/timezone` posted in a channel
works as it does in a group (only administrators can post in a channel, so they may change settings)."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.middlewares import Handler


class ChannelPostsAsMessages(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and event.channel_post is not None:
            event = event.model_copy(update={"message": event.channel_post, "channel_post": None})
        return await handler(event, data)
