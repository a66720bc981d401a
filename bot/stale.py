"""Buttons nobody handles: forged, or left over from an older screen (every button's data is checked as strictly
as the typed command, so an out-of-range value matches no handler and ends here). The person is told the
button is out of date; nothing changes."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.middlewares import Handler


async def out_of_date(callback: CallbackQuery) -> None:
    await callback.answer(_("This button is out of date. Send the command again."))


class ButtonsOnMessagesOnly(BaseMiddleware):
    """Every button of ours sits on a message of ours: a press that comes without one (an inline message's id
    instead) is out of date before any handler sees it."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, CallbackQuery) and event.message is None:
            await out_of_date(event)
            return None
        return await handler(event, data)


def make_router() -> Router:
    """Include it last: it takes every button press the feature routers left."""
    router = Router(name="stale buttons")
    router.callback_query.register(out_of_date)
    return router
