"""Anything unexpected: a short apology in the chat's language; the error goes to the log and to Sentry
once (returning True stops aiogram from logging it again and asyncio from reporting the task).

aiogram runs error handlers outside the update's middlewares, so the language is looked up here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import sentry_sdk
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import I18n

from models.account import TelegramChat
from notify.i18n import N_, pick_language

log = logging.getLogger(__name__)
APOLOGY = N_("Sorry, something went wrong on our side. It has been reported; please try again later.")


async def chat_language(i18n: I18n, update: Update) -> str:
    source = update.callback_query or update.message
    if source is None:
        return i18n.default_locale
    chat_id = source.message.chat.id if update.callback_query and source.message else source.chat.id
    known = await TelegramChat.get_or_none(chat_id=chat_id).select_related("account")
    if known is not None:
        return known.account.language
    return pick_language(i18n, source.from_user.language_code if source.from_user else None)


def apology_handler(i18n: I18n) -> Callable[[ErrorEvent], Awaitable[bool]]:
    async def apologise(event: ErrorEvent) -> bool:
        update = event.update
        log.error("update %s failed", update.update_id, exc_info=event.exception)
        sentry_sdk.capture_exception(event.exception)
        try:
            text = i18n.gettext(APOLOGY, locale=await chat_language(i18n, update))
            if update.callback_query is not None:
                await update.callback_query.answer(text, show_alert=True)
            elif update.message is not None:
                await update.message.answer(text)
        except Exception:  # the apology failing too must not hide the original error
            log.exception("could not send the apology for update %s", update.update_id)
        return True

    return apologise
