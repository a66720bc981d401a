"""The links in emails, served by the web app over HTTP: confirming an address (a page that asks, a button
that confirms, links that expire, a token of its own), the unsubscribe page, the one-click unsubscribe POST
(RFC 8058) that mail clients send without cookies or a login, and tokens that are not ours."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from models.account import Account, EmailAddress
from models.db import count_queries
from notify.email import email_recipients, reminder_email
from notify.i18n import make_i18n
from notify.messages import ContestInfo, Locale, Reminder
from web.app import make_web_app
from web.language import browser_language

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
