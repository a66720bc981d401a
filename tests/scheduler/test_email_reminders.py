"""Reminders and notices by email through the clock: verified addresses only, beside Telegram, and an SMTP
outage never delays Telegram."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bot.app import make_bot
from models.account import Account, Delivery, EmailAddress, TelegramChat
from models.contest import Contest
from notify.email import EmailChannel
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.telegram import TelegramChannel, TelegramSender
from scheduler.dispatch import ReminderRun
from scheduler.fetch_kicks import new_scheduler
from scheduler.reminder_clock import ReminderClock
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.notify.test_email import Inbox, parts, running_inbox
from tests.processes import wait_until

BASE_URL = "https://bell.example.org"


def now() -> datetime:
    return datetime.now(UTC)


async def someone(address: str | None, chat_id: int | None, verified: bool = True) -> Account:
    account = await Account.create(sites=["codeforces"], reminder_offsets=[600], timezone="Europe/Berlin")
    if chat_id is not None:
        await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    if address is not None:
        await EmailAddress.create(address=address, account=account, token=f"tok-{address}",
                                  verified_at=now() if verified else None)
    return account


async def due_soon(key: str) -> Contest:
    start = now() + timedelta(seconds=602)
    return await Contest.create(site_id="codeforces", key=key, title=f"Codeforces Round {key}",
                                url=f"https://codeforces.com/contest/{key}", start=start,
                                end=start + timedelta(hours=2), duration=7200)


@pytest.fixture
async def telegram_api(db) -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        yield fake, str(api.make_url("")).rstrip("/")


async def started_clock(base: str, inbox: Inbox) -> tuple[ReminderClock, object, object]:
    bot = make_bot(TOKEN, base)
    scheduler = new_scheduler()
    scheduler.start()
    run = ReminderRun([TelegramChannel(make_i18n(), TelegramSender(bot, make_limiter(None))),
                       EmailChannel(make_i18n(), inbox.sender(), BASE_URL)])
    clock = ReminderClock(scheduler, run)
    await clock.start()
    return clock, bot, scheduler


async def test_verified_addresses_get_the_reminder_by_email_beside_telegram(telegram_api):
    fake, base = telegram_api
    await someone("both@example.org", 301)
    await someone("only-mail@example.org", None)
    await someone("unverified@example.org", 302, verified=False)
    await due_soon("6000")
    with running_inbox() as inbox:
        _clock, bot, scheduler = await started_clock(base, inbox)
        try:
            letters = await inbox.wait_for(2, timeout=10)
            await fake.wait_for(count=2, timeout=10)

            async def all_marked() -> bool:
                return await Delivery.filter(status="sent").count() == 4

            await wait_until(all_marked, 20, "both channels' rows to be marked sent")
        finally:
            scheduler.shutdown(wait=False)
            await bot.session.close()
    assert sorted(m["To"] for m in letters) == ["both@example.org", "only-mail@example.org"]
    text, html, attachments = parts(letters[0])
    assert "Codeforces Round 6000" in text and "Berlin (UTC+" in text and "Codeforces Round 6000" in html
    assert attachments[0].get_content_type() == "text/calendar"
    assert letters[0]["List-Unsubscribe"].strip().startswith(f"<{BASE_URL}/email/unsubscribe/")
    assert sorted(c.chat_id for c in fake.sent()) == [301, 302]
    assert await Delivery.filter(channel="email", status="sent").count() == 2
    assert await Delivery.filter(channel="telegram", status="sent").count() == 2


async def test_an_smtp_outage_does_not_delay_telegram(telegram_api):
    fake, base = telegram_api
    await someone("down@example.org", 303)
    contest = await due_soon("6001")
    due = contest.start - timedelta(seconds=600)
    with running_inbox() as inbox:
        inbox.stop()  # the SMTP server is down
        _clock, bot, scheduler = await started_clock(base, inbox)
        try:
            [message] = await fake.wait_for(chat_id=303, timeout=10)
            arrived = datetime.now(UTC)

            async def both_marked() -> bool:
                return await Delivery.filter(status__in=["sent", "failed"]).count() == 2

            await wait_until(both_marked, 20, "the telegram and email rows to be marked")
        finally:
            scheduler.shutdown(wait=False)
            await bot.session.close()
    assert "Codeforces Round 6001" in message.text
    assert arrived - due < timedelta(seconds=2)  # Telegram went out on time while the mail was failing
    assert await Delivery.filter(channel="telegram", status="sent").count() == 1
    assert await Delivery.filter(channel="email", status="failed").count() == 1


async def test_a_message_that_cannot_be_made_costs_only_its_account(telegram_api, caplog):
    """Dispatch isolates accounts (issue 9, item 1): a verified address left without its unsubscribe token (an
    older row, a hand edit) cannot be rendered; that one email fails, logged once, and everyone else's reminders
    go out on both channels."""
    fake, base = telegram_api
    await someone("fine@example.org", 401)
    broken = await someone("no-token@example.org", 402)
    await EmailAddress.filter(account_id=broken.id).update(token=None)
    await due_soon("6100")
    with running_inbox() as inbox, caplog.at_level("WARNING"):
        _clock, bot, scheduler = await started_clock(base, inbox)
        try:
            [letter] = await inbox.wait_for(1, timeout=10)
            await fake.wait_for(count=2, timeout=10)

            async def all_marked() -> bool:
                return await Delivery.filter(status__in=["sent", "failed"]).count() == 4

            await wait_until(all_marked, 20, "every row to be marked")
        finally:
            scheduler.shutdown(wait=False)
            await bot.session.close()
    assert letter["To"] == "fine@example.org"
    assert sorted(c.chat_id for c in fake.sent()) == [401, 402]
    assert await Delivery.filter(status="failed").values_list("account_id", "channel") == [(broken.id, "email")]
    failures = [r for r in caplog.records if "could not render" in r.getMessage()]
    assert len(failures) == 1 and str(broken.id) in failures[0].getMessage()
