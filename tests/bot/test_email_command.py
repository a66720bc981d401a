"""/email: the verification flow end to end (command -> email through a real SMTP server -> the link on the web
app -> confirmed in the database), showing and removing the address, bad input, groups, and SMTP trouble."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import email as email_feature
from bot.app import FEATURES, make_bot, make_dispatcher
from bot.email import EmailContext, parse_address
from bot.screens import OpenSection
from contestbell.telegram import attach_webhook
from models.account import Account, EmailAddress
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
    """The bot with /email and an EmailContext whose sender mails `inbox` and whose links point at the web app
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
            dispatcher["email"] = EmailContext(inbox.sender(timeout=3.0), str(client.make_url("")).rstrip("/"))
            yield BotUnderTest(fake, client, bot, dispatcher)


async def address_of(chat_id: int) -> EmailAddress | None:
    account = await Account.get(telegram_chats__chat_id=chat_id)
    return await EmailAddress.get_or_none(account_id=account.id)


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
    assert row.address == "ann@example.org" and row.verified_at is None and len(row.token) >= 40

    (letter,) = await inbox.wait_for(1)
    assert letter["To"] == "ann@example.org" and inbox.envelopes[0].rcpt_tos == ["ann@example.org"]
    text, html, _ = parts(letter)
    link = link_in(text, "verify")
    assert link.endswith(f"/email/verify/{row.token}") and f'href="{link}"' in html
    assert letter["List-Unsubscribe"].strip() == f"<{link.replace('/verify/', '/unsubscribe/')}>"

    assert "waiting for confirmation" in (await telegram.reply_to(private_message("/email"))).text
    response = await telegram.client.get(urlsplit(link).path)
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
    assert (after.address, after.token, after.verified_at) == (before.address, before.token, before.verified_at)
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
    assert (await telegram.client.get(f"/email/verify/{first.token}")).status == 200
    await telegram.reply_to(private_message("/email bob@example.org"))
    second = await address_of(USER_ID)
    assert (second.id, second.address, second.verified_at) == (first.id, "bob@example.org", None)
    assert second.token != first.token
    assert (await telegram.client.get(f"/email/verify/{first.token}")).status == 404
    letters = await inbox.wait_for(2)
    assert [m["To"] for m in letters] == ["ann@example.org", "bob@example.org"]


async def test_an_address_confirmed_by_another_chat_is_not_taken(telegram, inbox):
    await telegram.reply_to(group_message("/email@simrsjsonbot team@example.org", user_id=ADMIN_ID))
    group_row = await address_of(GROUP_ID)
    # while it is unconfirmed, another chat may claim it (only the mailbox decides)
    await telegram.reply_to(private_message("/email team@example.org"))
    assert await address_of(GROUP_ID) is None
    mine = await address_of(USER_ID)
    assert mine.address == "team@example.org" and mine.token != group_row.token
    assert (await telegram.client.get(f"/email/verify/{mine.token}")).status == 200
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
    reply = await telegram.reply_to(private_message("/email ann@example.org"), timeout=10)
    assert "could not send the email to ann@example.org" in reply.text
    assert (await address_of(USER_ID)).verified_at is None  # /email ann@example.org again retries


async def test_without_smtp_the_bot_says_email_is_off(telegram, inbox):
    del telegram.dispatcher["email"]
    reply = await telegram.reply_to(private_message("/email ann@example.org"))
    assert "Email is not set up on this server" in reply.text
    assert await address_of(USER_ID) is None and inbox.envelopes == []
    assert "Email is not set up" in (await telegram.reply_to(private_message("/email"))).text


async def test_settings_button_opens_the_email_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="email").pack()))
    assert "No email address yet" in reply.text
    await telegram.fake.wait_for("answerCallbackQuery")
