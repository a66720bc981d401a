"""The links in emails, served by the web app over HTTP: confirming an address (a page that asks, a button
that confirms, links that expire, a token of its own; once confirmed, a link back to the bot and the bot saying so
in the chat), the unsubscribe page, the one-click unsubscribe POST (RFC 8058) that mail clients send without
cookies or a login, and tokens that are not ours."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import expect

from bot.app import make_bot
from contestbell.accounts import web_accounts
from contestbell.settings import Settings
from models.account import Account, EmailAddress, TelegramChat
from models.db import count_queries
from notify.addresses import Asked, Mailer, ask_to_confirm
from notify.email import email_recipients, reminder_email
from notify.i18n import make_i18n
from notify.limits import make_limiter
from notify.messages import ContestInfo, Locale, Reminder
from notify.telegram import TelegramSender
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.notify.test_email import Inbox, parts, running_inbox
from tests.web.accounts import BOT_NAME
from tests.web.browser import accessibility_violations, opened, screenshot
from web.app import Accounts, make_web_app
from web.language import browser_language
from web.signin import SignInOptions, TelegramLogin

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


async def new_address(address: str = "tom&jerry@example.org", language: str = "en", **fields) -> EmailAddress:
    """An address whose verification email went out just now."""
    account = await Account.create(language=language)
    fields = {"verify_token": secrets.token_urlsafe(32), "verify_sent_at": datetime.now(UTC), **fields}
    return await EmailAddress.create(account=account, address=address, token=secrets.token_urlsafe(32), **fields)


def verify_path(row: EmailAddress) -> str:
    return f"/email/verify/{row.verify_token}"


async def fresh(row: EmailAddress) -> EmailAddress:
    return await EmailAddress.get(id=row.id)


def assert_private(response: aiohttp.ClientResponse) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.content_type == "text/html" and "Set-Cookie" not in response.headers


def form_in(page: str) -> tuple[str, str]:
    """The address a page's form posts to, and what is inside the form."""
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form, page
    return unescape(form.group(1)), form.group(2)


async def test_opening_the_link_asks_and_only_the_button_confirms(client):
    """Mail scanners open (GET, HEAD) every link in an email: that must not confirm an address nobody owns."""
    row = await new_address()
    for method in ("GET", "HEAD"):
        response = await client.request(method, verify_path(row))
        assert response.status == 200
        assert_private(response)
    assert (await fresh(row)).verified_at is None
    page = await (await client.get(verify_path(row))).text()
    assert "<b>tom&amp;jerry@example.org</b>" in page and "tom&jerry" not in page
    action, button = form_in(page)
    assert action == verify_path(row) and "Confirm this address" in button

    response = await client.post(action)
    assert response.status == 200
    assert_private(response)
    assert "Email confirmed" in await response.text()
    confirmed = (await fresh(row)).verified_at
    assert confirmed is not None and abs(confirmed - datetime.now(UTC)) < timedelta(seconds=30)
    assert list(await email_recipients([row.account_id])) == [row.account_id]
    for method in ("GET", "POST"):  # again: it says so, and changes nothing
        response = await client.request(method, verify_path(row))
        page = await response.text()
        assert response.status == 200 and "already confirmed" in page and "<form" not in page
    assert (await fresh(row)).verified_at == confirmed


async def test_each_link_has_its_own_token(client):
    """The unsubscribe link (in every email, the verification email too) cannot confirm, nor the other way."""
    row = await new_address()
    assert (await client.post(f"/email/verify/{row.token}")).status == 404
    assert (await client.post(f"/email/unsubscribe/{row.verify_token}", data=ONE_CLICK)).status == 404
    row = await fresh(row)
    assert row.verified_at is None and not row.unsubscribed


async def test_a_verification_link_expires_after_48_hours(client):
    now = datetime.now(UTC)
    old = await new_address(verify_sent_at=now - timedelta(hours=48, minutes=1))
    for method in ("GET", "POST"):
        response = await client.request(method, verify_path(old))
        assert response.status == 410
        assert_private(response)
        page = await response.text()
        assert "expired" in page and "/email <b>tom&amp;jerry@example.org</b>" in page and "<form" not in page
    assert (await fresh(old)).verified_at is None
    young = await new_address("ann@example.org", verify_sent_at=now - timedelta(hours=47, minutes=59))
    assert "Email confirmed" in await (await client.post(verify_path(young))).text()
    assert (await fresh(young)).verified_at is not None


@pytest.mark.parametrize("verified", [False, True])
async def test_after_unsubscribing_the_verification_link_does_not_subscribe_again(client, verified):
    """Unsubscribing from the verification email says "not me"; from a reminder, "no more". Either way the
    verification link only says how to subscribe again."""
    verified_at = datetime.now(UTC) - timedelta(hours=1) if verified else None
    row = await new_address(verified_at=verified_at, unsubscribed=True)
    for method in ("GET", "POST"):
        response = await client.request(method, verify_path(row))
        assert response.status == 200
        assert_private(response)
        page = await response.text()
        assert "unsubscribed" in page and "/email <b>tom&amp;jerry@example.org</b>" in page and "<form" not in page
    row = await fresh(row)
    assert row.unsubscribed and row.verified_at == verified_at
    assert await email_recipients([row.account_id]) == {}


async def test_pages_speak_the_account_language(client):
    """Needs the Russian catalog with the email texts (/tmp/ru_email.json merged)."""
    row = await new_address(language="ru")
    page = await (await client.get(verify_path(row))).text()
    assert '<html lang="ru">' in page and "Подтвердить адрес" in page
    page = await (await client.post(verify_path(row))).text()
    assert "Адрес подтверждён" in page
    page = await (await client.get(f"/email/unsubscribe/{row.token}")).text()
    assert "Отписаться" in page


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/email/verify/{token}"), ("POST", "/email/verify/{token}"), ("GET", "/email/unsubscribe/{token}"),
    ("POST", "/email/unsubscribe/{token}"),
])
async def test_unknown_tokens_are_404_and_change_nothing(client, method, path):
    row = await new_address()
    for token in ("no-such-token", "x" * 65, row.token[:-1], row.verify_token[:-1]):
        response = await client.request(method, path.format(token=token), data=ONE_CLICK)
        assert response.status == 404, token
        assert "Unknown link" in await response.text()
    row = await fresh(row)
    assert row.verified_at is None and not row.unsubscribed


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("path", ["/email/verify/", "/email/unsubscribe/"])
async def test_a_token_not_shaped_like_ours_is_404_without_a_query(client, method, path):
    """NUL, a lone surrogate, bytes that are not UTF-8, other characters, far too short or long: "unknown link",
    decided before the database is asked (PostgreSQL refuses NUL in text: that was a 500)."""
    for token in ("%00", "A" * 40 + "%00", "%ED%A0%80" * 8, "%C0%AF" * 8, "%FF" * 20, "ä" * 40, "A" * 40 + "%20B",
                  "A" * 40 + "=", "A" * 15, "A" * 65, "A" * 5000):
        with count_queries("email_address") as queries:
            response = await client.request(method, path + token, data=ONE_CLICK)
        assert response.status == 404, token
        assert queries.count == 0, token
        if "%00" in token:  # refused at the door (web/middleware.py): no address can hold a NUL
            continue
        assert_private(response)
        if method != "HEAD":
            assert "Unknown link" in await response.text()


async def test_the_404_page_follows_the_browser_language(client):
    response = await client.get("/email/verify/nope", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert response.status == 404 and '<html lang="ru">' in await response.text()


def test_browser_language():
    i18n = make_i18n()
    assert browser_language(i18n, "") == "en"
    assert browser_language(i18n, "de-DE,de;q=0.9,ru;q=0.8,en;q=0.7") == "ru"
    assert browser_language(i18n, "en;q=0.5, ru") == "ru"
    assert browser_language(i18n, "*, x-klingon;q=0.9, ;q=abc") == "en"


async def test_the_unsubscribe_page_asks_and_its_button_unsubscribes(client):
    row = await new_address(verified_at=datetime.now(UTC))
    response = await client.get(f"/email/unsubscribe/{row.token}")
    assert response.status == 200
    assert_private(response)
    page = await response.text()
    assert not (await fresh(row)).unsubscribed  # opening the link (or a mail scanner doing so) changes nothing
    assert "tom&amp;jerry@example.org" in page
    action, inside = form_in(page)
    assert action == f"/email/unsubscribe/{row.token}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', inside))
    assert fields == ONE_CLICK

    response = await client.post(action, data=fields)
    assert response.status == 200
    assert "Unsubscribed" in await response.text()
    assert (await fresh(row)).unsubscribed
    page = await (await client.get(f"/email/unsubscribe/{row.token}")).text()
    assert "Unsubscribed" in page and "<form" not in page
    assert await email_recipients([row.account_id]) == {}


async def test_one_click_from_the_email_header_works_without_cookies(client):
    """What a mail client does: POST `List-Unsubscribe=One-Click` to the header's URL, in a fresh session."""
    row = await new_address(verified_at=datetime.now(UTC))
    contest = ContestInfo(1, "codeforces", "2100", "Round", "https://codeforces.com/contest/2100",
                          datetime.now(UTC) + timedelta(hours=1), 7200)
    base_url = str(client.make_url("")).rstrip("/")
    letter = reminder_email(make_i18n(), Locale("en", "UTC"), row, [Reminder(contest, 3600)],
                            from_address="contestbell <bell@example.org>", base_url=base_url)
    url = re.fullmatch(r"<(.+)>", letter["List-Unsubscribe"].strip()).group(1)
    assert letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as mail_client:
        async with mail_client.post(url, data="List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            assert response.status == 200
            assert "Set-Cookie" not in response.headers
        assert (await fresh(row)).unsubscribed
        async with mail_client.post(url, data="List-Unsubscribe=One-Click") as again:  # repeated: still fine
            assert again.status == 200
    assert (await fresh(row)).unsubscribed


# once confirmed: back to the bot, and the bot says so in the chat


@dataclass
class BotSite:
    """The web app with the bot's sender and name, the fake Bot API behind them, and a real SMTP server."""

    client: TestClient
    telegram: FakeTelegram
    inbox: Inbox
    mailer: Mailer


@asynccontextmanager
async def bot_site(db, *, username: str = BOT_NAME) -> AsyncIterator[BotSite]:
    telegram = FakeTelegram(username=username)
    async with TestServer(telegram.app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))

        async def bot_name() -> str | None:
            return (await bot.me()).username

        accounts = Accounts(sign_in=SignInOptions(telegram=TelegramLogin(TOKEN, bot_name)),
                            telegram=TelegramSender(bot, make_limiter(None), attempts=1))
        try:
            with running_inbox() as inbox:
                async with TestClient(TestServer(make_web_app(accounts=accounts), host="127.0.0.1")) as client:
                    base_url = str(client.make_url("")).rstrip("/")
                    yield BotSite(client, telegram, inbox, Mailer(inbox.sender(), make_i18n(), base_url))
        finally:
            await bot.session.close()


async def chat_with_account(chat_id: int, language: str = "en") -> Account:
    account = await Account.create(language=language)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    return account


async def test_confirming_links_back_to_the_bot_and_the_bot_says_so_in_the_chat(db):
    """From /email to the chat: the verification email arrives over SMTP without an unsubscribe header, its link's
    button confirms, the page links to https://t.me/<bot>, and the bot tells the account's chat (not another)."""
    async with bot_site(db) as site:
        account = await chat_with_account(4242)
        await chat_with_account(777)  # someone else's chat hears nothing
        asked = await ask_to_confirm(site.mailer, account.id, "en", "tom&jerry@example.org", datetime.now(UTC),
                                     only_one=True)
        assert asked.outcome is Asked.SENT
        (letter,) = await site.inbox.wait_for(1)
        assert letter["List-Unsubscribe"] is None and "Unsubscribe" not in letter.as_string()
        link = re.search(r"Confirm this address: (\S+)", parts(letter)[0]).group(1)

        page = await (await site.client.get(urlsplit(link).path)).text()
        assert "t.me" not in page and site.telegram.sent() == []  # opening the link only asks
        response = await site.client.post(urlsplit(link).path)
        page = await response.text()
        assert response.status == 200 and "Email confirmed" in page
        assert f'<a class="next" href="https://t.me/{BOT_NAME}">Back to the bot</a>' in page

        (told,) = await site.telegram.wait_for("sendMessage", chat_id=4242)
        assert told.text == "✅ tom&amp;jerry@example.org is confirmed: contest reminders will come there too."
        assert site.telegram.sent(chat_id=777) == []
        assert list(await email_recipients([account.id])) == [account.id]


async def test_the_chat_is_told_in_its_language(db):
    async with bot_site(db) as site:
        account = await chat_with_account(4243, language="ru")
        row = await new_address()
        await EmailAddress.filter(id=row.id).update(account_id=account.id)
        page = await (await site.client.post(verify_path(row))).text()
        assert "Адрес подтверждён" in page and "Вернуться к боту" in page
        (told,) = await site.telegram.wait_for("sendMessage", chat_id=4243)
        assert told.text.startswith("✅ Адрес tom&amp;jerry@example.org подтверждён")


async def test_when_telegram_fails_the_address_is_confirmed_all_the_same(db, caplog):
    async with bot_site(db) as site:
        account = await chat_with_account(4244)
        row = await new_address()
        await EmailAddress.filter(id=row.id).update(account_id=account.id)
        site.telegram.fail_next("sendMessage", 400, "Bad Request: message text is empty")
        with caplog.at_level(logging.INFO, logger="contestbell"):
            response = await site.client.post(verify_path(row))
            assert response.status == 200 and "Email confirmed" in await response.text()
            await site.telegram.wait_for("sendMessage", chat_id=4244)
            await wait_until(lambda: "could not tell" in caplog.text)
        assert (await fresh(row)).verified_at is not None
        lines = [record for record in caplog.records if "4244" in record.getMessage()]
        assert len(lines) == 1 and "message text is empty" in lines[0].getMessage()


async def test_without_the_bots_name_the_page_links_to_the_site(client):
    """No bot in this process (or Telegram not answering getMe): the way back is the calendar."""
    row = await new_address()
    page = await (await client.post(verify_path(row))).text()
    assert "Email confirmed" in page and "t.me" not in page
    assert '<a class="next" href="http://127.0.0.1:8080/">To the contest calendar</a>' in page


async def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_web_process_wired_from_its_settings_tells_the_chat(db):
    """What `contestbell web` opens (contestbell/accounts.py): with a bot token, the bot's name and its sender."""
    telegram = FakeTelegram(username=BOT_NAME)
    async with TestServer(telegram.app, host="127.0.0.1") as api:
        settings = Settings(telegram_token=TOKEN, telegram_api_base=str(api.make_url("")).rstrip("/"))
        async with web_accounts(settings) as accounts, \
                TestClient(TestServer(make_web_app(accounts=accounts), host="127.0.0.1")) as client:
            account = await chat_with_account(4250)
            row = await new_address()
            await EmailAddress.filter(id=row.id).update(account_id=account.id)
            page = await (await client.post(verify_path(row))).text()
            assert f'href="https://t.me/{BOT_NAME}"' in page
            await telegram.wait_for("sendMessage", chat_id=4250)


async def test_in_a_browser_the_button_confirms_and_the_page_leads_back_to_the_bot(db, browser):
    """A person on a phone: the link's page, its button, then the way back to the bot, readable in light and dark
    (axe-core finds nothing against WCAG 2.1 AA); screenshots in test-artifacts/email-confirmed-*."""
    async with bot_site(db) as site:
        account = await chat_with_account(4260)
        row = await new_address()
        await EmailAddress.filter(id=row.id).update(account_id=account.id)
        async with opened(browser, str(site.client.make_url(verify_path(row))), width=375) as page:
            await page.get_by_role("button", name="Confirm this address").click()
            back = page.get_by_role("link", name="Back to the bot")
            await expect(back).to_have_attribute("href", f"https://t.me/{BOT_NAME}")
            for scheme in ("light", "dark"):
                await page.emulate_media(color_scheme=scheme)
                assert await accessibility_violations(page) == []
                await screenshot(page, f"email-confirmed-{scheme}-375")
        await site.telegram.wait_for("sendMessage", chat_id=4260)
        assert (await fresh(row)).verified_at is not None
