"""Wires the reminder clock into a scheduling process: the bot client to send with, the rate limits
(shared through Redis when it is configured), and the event bus that makes the clock replan at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import make_bot
from contestbell.settings import Settings
from fetchers.events import EventBus
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.reminder_clock import ReminderClock

log = logging.getLogger("contestbell.reminders")


@asynccontextmanager
async def reminder_clock(settings: Settings, scheduler: AsyncIOScheduler, bus: EventBus
                         ) -> AsyncIterator[ReminderClock | None]:
    if not settings.telegram_token:
        log.info("no CONTESTBELL_TELEGRAM_TOKEN: Telegram reminders are off")
        yield None
        return
    bot = make_bot(settings.telegram_token, settings.telegram_api_base)
    limiter = make_limiter(settings.redis_url, settings.telegram_rate or None)
    clock = ReminderClock(scheduler, ReminderRun(make_i18n(), TelegramSender(bot, limiter)))
    await clock.start()
    follower = asyncio.create_task(clock.follow_changes(bus))
    try:
        yield clock
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await limiter.aclose()
        await bot.session.close()
