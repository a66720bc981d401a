"""/email: the verification flow end to end (command -> email through a real SMTP server -> the link on the web
app -> its button -> confirmed in the database), showing and removing the address, bad input, groups, SMTP
trouble, and the limits that keep /email from mail-bombing a stranger (per address and per chat, in the database).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import email as email_feature
from bot.app import FEATURES, make_bot, make_dispatcher
from bot.screens import OpenSection
from contestbell.telegram import attach_webhook
from models.account import Account, EmailAddress, VerificationMail
from notify.addresses import Mailer, parse_address
from notify.formatting import local_time
from notify.i18n import make_i18n
from tests.bot.conftest import ADMIN_ID, SECRET, BotUnderTest
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.notify.test_email import Inbox, parts, running_inbox
from web.app import make_web_app


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as running:
        yield running


@pytest.fixture
async def telegram(db, inbox: Inbox) -> AsyncIterator[BotUnderTest]:
    """The bot with /email and a Mailer whose sender mails `inbox` and whose links point at the web app
    that also serves the webhook."""
    fake = FakeTelegram(admins={GROUP_ID: {ADMIN_ID}})
    async with TestServer(fake.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))
        dispatcher = make_dispatcher(make_i18n())
        if email_feature not in FEATURES:  # until bot/app.py lists it
            dispatcher.include_router(email_feature.make_router())
        app = make_web_app()
        attach_webhook(app, dispatcher, bot, SECRET)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            dispatcher["email"] = Mailer(inbox.sender(timeout=3.0), make_i18n(), str(client.make_url("")).rstrip("/"))
            yield BotUnderTest(fake, client, bot, dispatcher)


async def address_of(chat_id: int) -> EmailAddress | None:
    account = await Account.get(telegram_chats__chat_id=chat_id)
    return await EmailAddress.get_or_none(account_id=account.id)


async def confirm(telegram: BotUnderTest, row: EmailAddress) -> int:
    """Press the button on the verification link's page; the answer's status."""
    return (await telegram.client.post(f"/email/verify/{row.verify_token}")).status


def link_in(text: str, kind: str) -> str:
    match = re.search(rf"https?://\S+/email/{kind}/[A-Za-z0-9_-]+", text)
    assert match, text
    return match.group(0)


# the pure part


@pytest.mark.parametrize(("typed", "address"), [
    ("ann@example.org", "ann@example.org"),
    ("  Ann.Lee+contests@Mail.Example.ORG ", "ann.lee+contests@mail.example.org"),
    ("<ann@example.org>", "ann@example.org"),
    ("mailto:ann@example.org", "ann@example.org"),
    ("o'neil@xn--80ak6aa92e.com", "o'neil@xn--80ak6aa92e.com"),
    ("ann", None), ("ann@", None), ("@example.org", None), ("ann@example", None), ("ann@@example.org", None),
    ("ann@example.org bob@example.org", None), ("ann lee@example.org", None), (".ann@example.org", None),
    ("ann..lee@example.org", None), ("ann@-example.org", None), ("ann@example.123", None),
    ("ann@exa_mple.org", None), ("<script>@example.org", None), ("анна@пример.рф", None),
    ("a" * 65 + "@example.org", None), ("ann@" + "a" * 64 + ".org", None), ("ann@" + "abc." * 63 + "org", None),
])
def test_parse_address(typed, address):
    assert parse_address(typed) == address


# the command


async def test_verification_flow_end_to_end(telegram, inbox):
    reply = await telegram.reply_to(private_message("/email Ann@Example.org"))
    assert "I sent a confirmation link to ann@example.org" in reply.text
    row = await address_of(USER_ID)
    assert row.address == "ann@example.org" and row.verified_at is None
    assert len(row.token) >= 40 and len(row.verify_token) >= 40 and row.token != row.verify_token
    assert abs(row.verify_sent_at - datetime.now(UTC)) < timedelta(seconds=30)

    (letter,) = await inbox.wait_for(1)
    assert letter["To"] == "ann@example.org" and inbox.envelopes[0].rcpt_tos == ["ann@example.org"]
    text, html, _ = parts(letter)
    link = link_in(text, "verify")
    assert link.endswith(f"/email/verify/{row.verify_token}") and f'href="{link}"' in html
    assert letter["List-Unsubscribe"] is None  # nobody has subscribed yet: nothing to unsubscribe from

    assert "waiting for confirmation" in (await telegram.reply_to(private_message("/email"))).text
    response = await telegram.client.get(urlsplit(link).path)
    assert response.status == 200 and "<form" in await response.text()
    assert (await address_of(USER_ID)).verified_at is None  # opening the link only asks
    response = await telegram.client.post(urlsplit(link).path)
    assert response.status == 200 and "Email confirmed" in await response.text()
    row = await address_of(USER_ID)
    assert row.verified_at is not None and not row.unsubscribed
    shown = await telegram.reply_to(private_message("/email"))
    assert "ann@example.org, confirmed" in shown.text


async def test_a_russian_chat_gets_russian(telegram, inbox):
    """Needs the Russian catalog with the email texts (/tmp/ru_email.json merged)."""
    reply = await telegram.reply_to(private_message("/email ann@example.org", language_code="ru"))
    assert "Я отправил ссылку для подтверждения на ann@example.org" in reply.text
    (letter,) = await inbox.wait_for(1)
    assert letter["Subject"] == "Подтвердите адрес для напоминаний о контестах"


@pytest.mark.parametrize("typed", ["not-an-email", "ann@example", "<b>x</b>@example.org", "a@b.org c@d.org"])
async def test_a_bad_address_explains_and_changes_nothing(telegram, inbox, typed):
    await telegram.reply_to(private_message("/email ann@example.org"))
    await inbox.wait_for(1)
    before = await address_of(USER_ID)
    reply = await telegram.reply_to(private_message(f"/email {typed}"))
    assert "does not look like an email address" in reply.text and "Nothing changed" in reply.text
    assert "/email you@example.org" in reply.text
    assert "<b>x</b>" not in reply.text  # what people type is escaped
    after = await address_of(USER_ID)
    assert same_row(after, before)
    assert len(inbox.envelopes) == 1


async def test_show_and_remove(telegram, inbox):
    assert "No email address yet" in (await telegram.reply_to(private_message("/email"))).text
    assert "no email address to remove" in (await telegram.reply_to(private_message("/email off"))).text
    await telegram.reply_to(private_message("/email ann@example.org"))
    row = await address_of(USER_ID)
    await EmailAddress.filter(id=row.id).update(verified_at=datetime.now(UTC), unsubscribed=True)
    shown = await telegram.reply_to(private_message("/email"))
    assert "unsubscribed" in shown.text and "/email ann@example.org" in shown.text
    assert "removed" in (await telegram.reply_to(private_message("/email off"))).text
    assert await address_of(USER_ID) is None
    assert (await telegram.client.get(f"/email/unsubscribe/{row.token}")).status == 404  # old links are dead


async def test_a_new_address_needs_confirming_again(telegram, inbox):
    await telegram.reply_to(private_message("/email ann@example.org"))
    first = await address_of(USER_ID)
    assert await confirm(telegram, first) == 200
    await telegram.reply_to(private_message("/email bob@example.org"))
    second = await address_of(USER_ID)
    assert (second.id, second.address, second.verified_at) == (first.id, "bob@example.org", None)
    assert second.token != first.token and second.verify_token != first.verify_token
    assert await confirm(telegram, first) == 404
    letters = await inbox.wait_for(2)
    assert [m["To"] for m in letters] == ["ann@example.org", "bob@example.org"]


async def test_each_email_brings_a_new_link_that_lasts_48_hours(telegram, inbox):
    await telegram.reply_to(private_message("/email ann@example.org"))
    first = await address_of(USER_ID)
    two_days_ago = datetime.now(UTC) - timedelta(hours=49)
    await EmailAddress.filter(id=first.id).update(verify_sent_at=two_days_ago)
    expired = await telegram.client.post(f"/email/verify/{first.verify_token}")
    assert expired.status == 410 and "/email <b>ann@example.org</b>" in await expired.text()

    await telegram.reply_to(private_message("/email ann@example.org"))  # what the expired page says to do
    second = await address_of(USER_ID)
    assert second.verify_token != first.verify_token and second.verify_sent_at > two_days_ago
    assert await confirm(telegram, first) == 404  # the old link is dead, the new one works
    assert await confirm(telegram, second) == 200
    assert (await address_of(USER_ID)).verified_at is not None
    letters = await inbox.wait_for(2)
    assert link_in(parts(letters[1])[0], "verify").endswith(second.verify_token)


async def test_an_address_confirmed_by_another_chat_is_not_taken(telegram, inbox):
    await telegram.reply_to(group_message("/email@simrsjsonbot team@example.org", user_id=ADMIN_ID))
    group_row = await address_of(GROUP_ID)
    # while it is unconfirmed, another chat may claim it (only the mailbox decides)
    await telegram.reply_to(private_message("/email team@example.org"))
    assert await address_of(GROUP_ID) is None
    mine = await address_of(USER_ID)
    assert mine.address == "team@example.org" and mine.verify_token != group_row.verify_token
    assert await confirm(telegram, group_row) == 404 and await confirm(telegram, mine) == 200
    # confirmed now: the group cannot take it back
    reply = await telegram.reply_to(group_message("/email@simrsjsonbot team@example.org", user_id=ADMIN_ID))
    assert "already used by another chat" in reply.text
    assert await address_of(GROUP_ID) is None and (await address_of(USER_ID)).token == mine.token
    assert len(await inbox.wait_for(2)) == 2


async def test_in_a_group_only_administrators_change_the_address(telegram, inbox):
    shown = await telegram.reply_to(group_message("/email@simrsjsonbot"))
    assert shown.chat_id == GROUP_ID and "No email address yet" in shown.text
    refusal = await telegram.reply_to(group_message("/email@simrsjsonbot team@example.org"))
    assert "only the chat's administrators" in refusal.text
    assert await address_of(GROUP_ID) is None and inbox.envelopes == []

    done = await telegram.reply_to(group_message("/email@simrsjsonbot team@example.org", user_id=ADMIN_ID))
    assert "I sent a confirmation link to team@example.org" in done.text
    await inbox.wait_for(1)
    refusal = await telegram.reply_to(group_message("/email@simrsjsonbot off"))
    assert "only the chat's administrators" in refusal.text and await address_of(GROUP_ID) is not None
    await telegram.reply_to(group_message("/email@simrsjsonbot off", user_id=ADMIN_ID))
    assert await address_of(GROUP_ID) is None


async def test_smtp_down_says_so(telegram, inbox):
    inbox.stop()
    for _attempt in range(4):  # an email that was not sent does not count against the limits
        reply = await telegram.reply_to(private_message("/email ann@example.org"), timeout=10)
        assert "could not send the email to ann@example.org" in reply.text
    assert (await address_of(USER_ID)).verified_at is None  # /email ann@example.org again retries
    inbox.start()
    reply = await telegram.reply_to(private_message("/email ann@example.org"))
    assert "I sent a confirmation link" in reply.text
    await inbox.wait_for(1)


# mail-bombing


def same_row(after: EmailAddress | None, before: EmailAddress | None) -> bool:
    """Nothing about the address changed: which it is, its tokens, its state."""
    def state(row: EmailAddress | None) -> tuple | None:
        return row and (row.id, row.address, row.token, row.verify_token, row.verify_sent_at, row.verified_at,
                        row.unsubscribed)
    return state(after) == state(before)


def chat(n: int) -> int:
    return USER_ID + n


async def test_several_chats_cannot_mail_bomb_one_address(telegram, inbox):
    """Unconfirmed claims give way to one another, so each chat could mail the address again: three a day."""
    await telegram.reply_to(private_message("/email mine@example.org", user_id=chat(4)))
    await confirm(telegram, await address_of(chat(4)))
    for n in (1, 2, 3):
        reply = await telegram.reply_to(private_message("/email victim@example.org", user_id=chat(n)))
        assert "I sent a confirmation link" in reply.text
    holder, own = await address_of(chat(3)), await address_of(chat(4))

    refusal = await telegram.reply_to(private_message("/email Victim@Example.org", user_id=chat(4)))
    assert "victim@example.org has had enough confirmation emails for today" in refusal.text
    assert "Nothing changed" in refusal.text and "Try again after" in refusal.text
    russian = await telegram.reply_to(private_message("/email victim@example.org", user_id=chat(5),
                                                      language_code="ru"))
    assert "На victim@example.org сегодня уже ушло слишком много писем" in russian.text

    letters = await inbox.wait_for(4)
    await asyncio.sleep(0.2)
    assert len(inbox.envelopes) == 4 and [m["To"] for m in letters].count("victim@example.org") == 3
    assert same_row(await address_of(chat(3)), holder) and same_row(await address_of(chat(4)), own)
    assert await address_of(chat(5)) is None
    assert await confirm(telegram, holder) == 200  # the last link that went out still works


async def test_one_chat_cannot_mail_bomb_many_addresses(telegram, inbox):
    for n in range(5):
        reply = await telegram.reply_to(private_message(f"/email person{n}@example.org"))
        assert "I sent a confirmation link" in reply.text
    last = await address_of(USER_ID)
    refusal = await telegram.reply_to(private_message("/email person5@example.org"))
    assert "This chat has asked for enough confirmation emails for today" in refusal.text
    assert "Nothing changed" in refusal.text
    await inbox.wait_for(5)
    await asyncio.sleep(0.2)
    assert len(inbox.envelopes) == 5 and same_row(await address_of(USER_ID), last)


async def test_a_burst_from_five_chats_mails_an_address_three_times_at_most(telegram, inbox):
    """Nine requests in the same moment, handled side by side (as by several processes): the limit holds (when
    more come at once than it allows, all may be refused), and what was refused is not counted."""
    updates = [private_message("/email victim@example.org", user_id=chat(n % 5)) for n in range(9)]
    assert await asyncio.gather(*(telegram.send(update) for update in updates)) == [200] * 9
    replies = await telegram.fake.wait_for("sendMessage", count=9, timeout=15)
    sent = sum("I sent a confirmation link" in reply.text for reply in replies)
    assert sent <= 3 and sum("enough confirmation emails" in reply.text for reply in replies) == 9 - sent, [
        reply.text for reply in replies if "enough confirmation emails" not in reply.text]
    await asyncio.sleep(0.2)
    assert len(inbox.envelopes) == sent == await VerificationMail.filter(address="victim@example.org").count()


async def test_the_limits_live_in_the_database(telegram, inbox):
    """Mails another process sent, or this one before a restart, count; mails older than 24 hours do not."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    stranger = await Account.create()
    for hours in (25, 23, 22, 21):
        await VerificationMail.create(address="victim@example.org", account=stranger,
                                      sent_at=now - timedelta(hours=hours))
    refusal = await telegram.reply_to(private_message("/email victim@example.org"))
    again = local_time(now + timedelta(hours=1), ZoneInfo("UTC"), "en")  # when the one of 23 h ago is a day old
    assert "enough confirmation emails" in refusal.text and again in refusal.text, refusal.text
    assert await address_of(USER_ID) is None and inbox.envelopes == []

    a_day_ago = now - timedelta(hours=24, minutes=1)
    await VerificationMail.filter(sent_at=now - timedelta(hours=23)).update(sent_at=a_day_ago)
    reply = await telegram.reply_to(private_message("/email victim@example.org"))
    assert "I sent a confirmation link" in reply.text
    await inbox.wait_for(1)


async def test_without_smtp_the_bot_says_email_is_off(telegram, inbox):
    del telegram.dispatcher["email"]
    reply = await telegram.reply_to(private_message("/email ann@example.org"))
    assert "Email is not set up on this server" in reply.text
    assert await address_of(USER_ID) is None and inbox.envelopes == []
    assert "Email is not set up" in (await telegram.reply_to(private_message("/email"))).text


async def test_settings_button_opens_the_email_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="email").pack()), "editMessageText")
    assert "No email address yet" in reply.text
    await telegram.fake.wait_for("answerCallbackQuery")
