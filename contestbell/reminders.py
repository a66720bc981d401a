"""Wires the reminder clock into a scheduling process: the bot client and the SMTP sender to send with, the
rate limits (shared through Redis when it is configured), and the event bus that makes the clock replan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import make_bot
from contestbell.settings import Settings
from contestbell.telegram import mailer
from fetchers.events import EventBus
from notify.channel import Channel
from notify.email import EmailChannel
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.reminder_clock import ReminderClock

log = logging.getLogger("contestbell.reminders")


@asynccontextmanager
async def reminder_clock(settings: Settings, scheduler: AsyncIOScheduler, bus: EventBus
                         ) -> AsyncIterator[ReminderClock | None]:
    i18n = make_i18n()
    email = mailer(settings, i18n)
    if not settings.telegram_token and email is None:
        log.info("no CONTESTBELL_TELEGRAM_TOKEN and no CONTESTBELL_SMTP_HOST: reminders are off")
        yield None
        return
    async with AsyncExitStack() as stack:
        channels: list[Channel] = []
        if settings.telegram_token:
            channels.append(TelegramChannel(i18n, await telegram_sender(settings, stack)))
        if email is not None:
            channels.append(EmailChannel(i18n, email.sender, email.base_url))
        clock = ReminderClock(scheduler, ReminderRun(channels))
        await clock.start()
        follower = asyncio.create_task(clock.follow_changes(bus))
        try:
            yield clock
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await clock.stop()


async def telegram_sender(settings: Settings, stack: AsyncExitStack) -> TelegramSender:
    bot = make_bot(settings.telegram_token or "", settings.telegram_api_base)
    stack.push_async_callback(bot.session.close)
    limiter = make_limiter(settings.redis_url, settings.telegram_rate or None)
    stack.push_async_callback(limiter.aclose)
    return TelegramSender(bot, limiter)
