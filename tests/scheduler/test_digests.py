"""Digests through the digest clock, a real SMTP server (aiosmtpd) and the database: at the local time in three
zones across a daylight-saving change (the clock is told the time: nothing waits for days), exactly once with
two schedulers and after a restart, nothing for an empty period, the .ics and the raw one-click headers as a
mail provider reads them, and the bot's /digest command."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from icalendar import Calendar

from models.account import Account, DigestDelivery, EmailAddress
from models.contest import Contest
from notify.email import EmailChannel
from notify.i18n import make_i18n
from notify.ical import contest_uid
from scheduler.digests import DigestClock, DigestRun
from scheduler.plan import contest_info
from tests.bot.updates import USER_ID, private_message
from tests.notify.test_email import Inbox, parts, running_inbox

BASE_URL = "https://bell.example.org"
HOUR = timedelta(hours=1)


@pytest.fixture
def inbox() -> Inbox:
    with running_inbox() as running:
        yield running


async def reader(address: str, zone: str, digest: str, minute: int, weekday: int | None = None, **settings) -> Account:
    account = await Account.create(sites=["codeforces"], timezone=zone, digest=digest, digest_minute=minute,
                                   digest_weekday=weekday, **settings)
    token = f"token-{address.replace('@', '-at-')}-0123456789abcdef"
    await EmailAddress.create(address=address, account=account, token=token,
                              verified_at=datetime(2026, 1, 1, tzinfo=UTC))
    return account


async def contest(key: str, start: datetime, title: str | None = None, site: str = "codeforces") -> Contest:
    return await Contest.create(site_id=site, key=key, title=title or f"Codeforces Round {key}",
                                url=f"https://codeforces.com/contest/{key}", start=start,
                                end=start + timedelta(hours=2), duration=7200)


def clock_at(inbox: Inbox, now: datetime) -> DigestClock:
    return DigestClock(None, DigestRun(EmailChannel(make_i18n(), inbox.sender(), BASE_URL)), now=now)


async def walk(clock: DigestClock, start: datetime, end: datetime, step: timedelta = timedelta(minutes=30)) -> None:
    """Move the clock from `start` to `end`: replan and wake at every step, as the scheduler would."""
    moment = start
    while moment <= end:
        await clock.replan()
        await clock.wake(now=moment)
        moment += step


async def sent_due(address: str) -> list[datetime]:
    rows = await DigestDelivery.filter(address__address=address, status="sent").order_by("due_at")
    return [row.due_at.astimezone(UTC) for row in rows]


async def test_daily_digests_come_at_local_time_in_three_zones_across_a_dst_change(db, inbox):
    # Berlin springs forward on 29 March 2026 (CET+1 -> CEST+2); New York did on 8 March; Kolkata never does
    await reader("berlin@example.org", "Europe/Berlin", "daily", 8 * 60)
    await reader("newyork@example.org", "America/New_York", "daily", 8 * 60)
    await reader("kolkata@example.org", "Asia/Kolkata", "weekly", 9 * 60 + 30, weekday=6)  # Sundays 09:30
    for day in range(27, 32):
        await contest(f"{day}", datetime(2026, 3, day, 18, 0, tzinfo=UTC))
    start = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    await walk(clock_at(inbox, start), start, datetime(2026, 3, 30, 23, 0, tzinfo=UTC))

    assert await sent_due("berlin@example.org") == [datetime(2026, 3, 28, 7, 0, tzinfo=UTC),  # 08:00 CET
                                                     datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # 08:00 CEST
                                                     datetime(2026, 3, 30, 6, 0, tzinfo=UTC)]
    assert await sent_due("newyork@example.org") == [datetime(2026, 3, 28, 12, 0, tzinfo=UTC),  # 08:00 EDT
                                                      datetime(2026, 3, 29, 12, 0, tzinfo=UTC),
                                                      datetime(2026, 3, 30, 12, 0, tzinfo=UTC)]
    assert await sent_due("kolkata@example.org") == [datetime(2026, 3, 29, 4, 0, tzinfo=UTC)]  # 09:30 IST
    letters = {letter["To"]: letter for letter in inbox.messages()}
    assert len(inbox.messages()) == 7
    text, _html, _attachments = parts(letters["kolkata@example.org"])
    assert all(f"Codeforces Round {day}" in text for day in (29, 30, 31))  # the next 7 days
    assert "Codeforces Round 28" not in text  # before the digest


async def test_new_york_falls_back_and_a_daily_digest_still_comes_once_a_day(db, inbox):
    # 1 November 2026: 01:30 happens twice in New York; the digest goes out at the first one only
    await reader("twice@example.org", "America/New_York", "daily", 90)
    for day in (31, 1, 2):
        await contest(f"nov{day}", datetime(2026, 11 if day < 31 else 10, day, 20, 0, tzinfo=UTC))
    start = datetime(2026, 10, 31, 0, 0, tzinfo=UTC)
    await walk(clock_at(inbox, start), start, datetime(2026, 11, 2, 12, 0, tzinfo=UTC), step=timedelta(minutes=20))
    assert await sent_due("twice@example.org") == [datetime(2026, 10, 31, 5, 30, tzinfo=UTC),  # EDT
                                                    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # the first 01:30
                                                    datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]  # EST


async def test_two_schedulers_and_a_restart_send_each_digest_once(db, inbox):
    for n in range(30):
        await reader(f"person{n}@example.org", "Europe/Berlin", "daily", 8 * 60)
    await contest("1", datetime(2026, 5, 4, 15, 0, tzinfo=UTC))
    before = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
    due = datetime(2026, 5, 4, 6, 0, 30, tzinfo=UTC)  # 08:00 CEST, half a minute on
    first, second = clock_at(inbox, before), clock_at(inbox, before)
    await asyncio.gather(first.replan(), second.replan())
    await asyncio.gather(first.wake(now=due), second.wake(now=due))
    restarted = clock_at(inbox, due + HOUR)  # looks back over the last hours
    await restarted.start()
    await restarted.wake(now=due + HOUR)

    letters = inbox.messages()
    assert sorted(letter["To"] for letter in letters) == sorted(f"person{n}@example.org" for n in range(30))
    assert await DigestDelivery.filter(status="sent").count() == 30
    assert await DigestDelivery.exclude(status="sent").count() == 0


async def test_a_digest_due_while_down_goes_out_late_after_the_restart(db, inbox):
    await reader("late@example.org", "UTC", "daily", 8 * 60)
    await contest("1", datetime(2026, 5, 4, 15, 0, tzinfo=UTC))
    restarted = clock_at(inbox, datetime(2026, 5, 4, 10, 0, tzinfo=UTC))  # two hours after 08:00
    await restarted.replan()
    await restarted.wake(now=datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    assert await sent_due("late@example.org") == [datetime(2026, 5, 4, 8, 0, tzinfo=UTC)]


async def test_an_empty_period_sends_nothing(db, inbox):
    await reader("quiet@example.org", "UTC", "daily", 8 * 60, exclude_keywords=["round"])
    await reader("nothing-soon@example.org", "UTC", "daily", 8 * 60)
    await contest("1", datetime(2026, 5, 4, 15, 0, tzinfo=UTC))  # only for the second; not this week for it
    await contest("2", datetime(2026, 5, 20, 15, 0, tzinfo=UTC))
    start = datetime(2026, 5, 5, 7, 0, tzinfo=UTC)
    await walk(clock_at(inbox, start), start, datetime(2026, 5, 5, 9, 0, tzinfo=UTC))
    assert inbox.messages() == []
    assert await DigestDelivery.all().count() == 0


async def test_only_confirmed_addresses_that_kept_digests_get_them(db, inbox):
    account = await reader("keeps@example.org", "UTC", "daily", 8 * 60)
    await EmailAddress.create(address="stopped@example.org", account=account, token="t" * 40,
                              verified_at=datetime(2026, 1, 1, tzinfo=UTC), digest_unsubscribed=True)
    await EmailAddress.create(address="unconfirmed@example.org", account=account, token="u" * 40)
    await EmailAddress.create(address="second@example.org", account=account, token="s" * 40,
                              verified_at=datetime(2026, 1, 1, tzinfo=UTC))
    paused = await reader("paused@example.org", "UTC", "daily", 8 * 60)
    await Account.filter(id=paused.id).update(paused=True)
    await contest("1", datetime(2026, 5, 4, 15, 0, tzinfo=UTC))
    start = datetime(2026, 5, 4, 7, 30, tzinfo=UTC)
    await walk(clock_at(inbox, start), start, datetime(2026, 5, 4, 8, 30, tzinfo=UTC))
    assert sorted(letter["To"] for letter in inbox.messages()) == ["keeps@example.org", "second@example.org"]


async def test_the_digest_email_as_a_mail_provider_reads_it(db, inbox):
    await reader("reader@example.org", "Europe/Berlin", "weekly", 18 * 60 + 30, weekday=0, language="ru")
    rounds = [await contest("10", datetime(2026, 5, 4, 22, 30, tzinfo=UTC), "Round <script>alert(1)</script>"),
              await contest("11", datetime(2026, 5, 6, 14, 35, tzinfo=UTC)),
              await contest("12", datetime(2026, 5, 9, 10, 0, tzinfo=UTC))]
    start = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)  # Monday; 18:30 CEST is 16:30 UTC
    await walk(clock_at(inbox, start), start, datetime(2026, 5, 4, 17, 0, tzinfo=UTC), step=timedelta(minutes=15))

    [envelope] = inbox.envelopes
    raw = envelope.original_content or envelope.content
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ")
    token = "token-reader-at-example.org-0123456789abcdef"
    assert f"List-Unsubscribe: <{BASE_URL}/email/digest-unsubscribe/{token}>" in unfolded.splitlines()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in unfolded.splitlines()
    assert "=?" not in next(line for line in unfolded.splitlines() if line.startswith("List-Unsubscribe:"))

    letter = message_from_bytes(raw, policy=default_policy)
    text, html, attachments = parts(letter)
    assert letter["Content-Language"] == "ru"
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert text.index("00:30") < text.index("16:35") < text.index("12:00")  # in Berlin time, by day
    assert "вторник" in text.lower()  # 00:30 on Tuesday in Berlin, 22:30 UTC on Monday
    [ics] = attachments
    calendar = Calendar.from_ical(ics.get_content())
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert uids == [contest_uid(contest_info(r)) for r in rounds]


# the bot


async def test_digest_command_sets_shows_and_turns_off(telegram):
    reply = await telegram.reply_to(private_message("/digest weekly fri 18:30"))
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    assert (account.digest, account.digest_weekday, account.digest_minute) == ("weekly", 4, 18 * 60 + 30)
    assert "Friday" in reply.text and "18:30" in reply.text and "/email" in reply.text  # no address yet

    reply = await telegram.reply_to(private_message("/digest"))
    assert "Friday" in reply.text

    reply = await telegram.reply_to(private_message("/digest daily 25:00"))
    assert "24-hour" in reply.text and "Nothing changed" in reply.text
    assert (await Account.get(id=account.id)).digest_minute == 18 * 60 + 30

    await EmailAddress.create(address="me@example.org", account=account, token="m" * 40,
                              verified_at=datetime(2026, 1, 1, tzinfo=UTC), digest_unsubscribed=True)
    reply = await telegram.reply_to(private_message("/digest daily 7:05"))
    assert "07:05" in reply.text and "/email" not in reply.text
    assert not (await EmailAddress.get(address="me@example.org")).digest_unsubscribed  # asked again: back on

    reply = await telegram.reply_to(private_message("/digest off"))
    assert (await Account.get(id=account.id)).digest is None
    assert "off" in reply.text.lower()
