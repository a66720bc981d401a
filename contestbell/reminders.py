"""Wires the reminder and digest clocks into a scheduling process: the channels to send with, the
rate limits (shared through Redis when it is configured), and the event bus that makes the clock replan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import make_bot
from contestbell.settings import Settings
from contestbell.telegram import mailer
from fetchers.events import EventBus
from models.account import Account, TelegramChat
from notify.channel import Channel
from notify.discord import DiscordChannel
from notify.email import EmailChannel
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.render import discord_gone_text
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.digests import DigestClock, DigestRun
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
        telegram = await telegram_sender(settings, stack) if settings.telegram_token else None
        if telegram is not None:
            channels.append(TelegramChannel(i18n, telegram))
        if email is not None:
            channels.append(EmailChannel(i18n, email.sender, email.base_url))
        if telegram is not None:  # a Discord webhook is set with the bot, and its loss is told there
            discord = DiscordChannel(i18n, settings.discord_api_base, on_gone=owner_teller(i18n, telegram))
            stack.push_async_callback(discord.aclose)
            channels.append(discord)
        clock = ReminderClock(scheduler, ReminderRun(channels))
        await clock.start()
        digests = [DigestClock(scheduler, DigestRun(channel)) for channel in channels
                   if getattr(channel, "carries_digests", False)]
        for digest_clock in digests:
            await digest_clock.start()
        follower = asyncio.create_task(clock.follow_changes(bus))
        try:
            yield clock
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await asyncio.gather(clock.stop(), *(digest_clock.stop() for digest_clock in digests))


async def telegram_sender(settings: Settings, stack: AsyncExitStack) -> TelegramSender:
    bot = make_bot(settings.telegram_token or "", settings.telegram_api_base)
    stack.push_async_callback(bot.session.close)
    limiter = make_limiter(settings.redis_url, settings.telegram_rate or None)
    stack.push_async_callback(limiter.aclose)
    return TelegramSender(bot, limiter)


def owner_teller(i18n: I18n, sender: TelegramSender) -> Callable[[int], Awaitable[None]]:
    """What tells an account in its Telegram chats that Discord dropped its webhook."""

    async def tell(account_id: int) -> None:
        account = await Account.get_or_none(id=account_id)
        if account is None:
            return
        text = discord_gone_text(i18n, account.language)
        for chat_id in await TelegramChat.filter(account_id=account_id, active=True).values_list("chat_id", flat=True):
            await sender.send(chat_id, text)

    return tell
