"""Anything unexpected: a short apology in the user's language; the error goes to the log and to Sentry
once (returning True stops aiogram from logging it again and asyncio from reporting the task)."""

from __future__ import annotations

import logging

import sentry_sdk
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def apologise(event: ErrorEvent) -> bool:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    sentry_sdk.capture_exception(event.exception)
    text = _("Sorry, something went wrong on our side. It has been reported; please try again later.")
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:  # the apology itself failing must not hide the original error
        log.exception("could not send the apology for update %s", update.update_id)
    return True
