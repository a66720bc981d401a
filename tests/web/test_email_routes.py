"""The links in emails, served by the web app over HTTP: confirming an address, the unsubscribe page, and the
one-click unsubscribe POST (RFC 8058) that mail clients send without cookies or a login."""

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
from notify.email import email_recipients, reminder_email
from notify.i18n import make_i18n
from notify.messages import ContestInfo, Recipient, Reminder
from web.app import make_web_app
from web.language import browser_language

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


async def new_address(address: str = "tom&jerry@example.org", language: str = "en", **fields) -> EmailAddress:
    account = await Account.create(language=language)
    return await EmailAddress.create(account=account, address=address, token=secrets.token_urlsafe(32), **fields)


async def fresh(row: EmailAddress) -> EmailAddress:
    return await EmailAddress.get(id=row.id)


def assert_private(response: aiohttp.ClientResponse) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.content_type == "text/html" and "Set-Cookie" not in response.headers


async def test_the_link_confirms_the_address(client):
    row = await new_address()
    response = await client.get(f"/email/verify/{row.token}")
    assert response.status == 200
    assert_private(response)
    page = await response.text()
    assert "Email confirmed" in page and "<b>tom&amp;jerry@example.org</b>" in page and "tom&jerry" not in page
    confirmed = (await fresh(row)).verified_at
    assert confirmed is not None and abs(confirmed - datetime.now(UTC)) < timedelta(seconds=30)
    assert (await client.get(f"/email/verify/{row.token}")).status == 200  # a second click changes nothing
    assert (await fresh(row)).verified_at == confirmed
    assert list(await email_recipients([row.account_id])) == [row.account_id]


async def test_pages_speak_the_account_language(client):
    """Needs the Russian catalog with the email texts (/tmp/ru_email.json merged)."""
    row = await new_address(language="ru")
    page = await (await client.get(f"/email/verify/{row.token}")).text()
    assert '<html lang="ru">' in page and "Адрес подтверждён" in page
    page = await (await client.get(f"/email/unsubscribe/{row.token}")).text()
    assert "Отписаться" in page


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/email/verify/{token}"), ("GET", "/email/unsubscribe/{token}"), ("POST", "/email/unsubscribe/{token}"),
])
async def test_unknown_tokens_are_404_and_change_nothing(client, method, path):
    row = await new_address()
    for token in ("no-such-token", "x" * 65, row.token[:-1]):
        response = await client.request(method, path.format(token=token), data=ONE_CLICK)
        assert response.status == 404, token
        assert "Unknown link" in await response.text()
    row = await fresh(row)
    assert row.verified_at is None and not row.unsubscribed


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
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form and unescape(form.group(1)) == f"/email/unsubscribe/{row.token}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', form.group(2)))
    assert fields == ONE_CLICK

    response = await client.post(unescape(form.group(1)), data=fields)
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
    letter = reminder_email(make_i18n(), Recipient(row.account_id, "en", "UTC"), row, [Reminder(contest, 3600)],
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
