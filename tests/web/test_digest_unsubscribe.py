"""The digest's one-click link, served by the web app over HTTP: opening it only asks, its button and a mail
client's RFC 8058 POST (no cookies, no login) stop digests to the address while its reminders keep coming, and
tokens that are not ours are unknown links (without a query when they cannot be ours)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from models.account import EmailAddress
from models.db import count_queries
from notify.digest import DigestSchedule, Frequency, digest_email
from notify.email import email_recipients
from notify.i18n import make_i18n
from notify.messages import ContestInfo, Locale
from tests.web.test_email_routes import ONE_CLICK, assert_private, form_in, fresh, new_address
from web.app import make_web_app


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


def digest_path(row: EmailAddress) -> str:
    return f"/email/digest-unsubscribe/{row.token}"


async def confirmed_address(**fields) -> EmailAddress:
    return await new_address(verified_at=datetime.now(UTC) - timedelta(days=1), **fields)


async def test_opening_the_link_asks_and_only_the_button_stops_digests(client):
    """Mail scanners open (GET, HEAD) every link in an email: that must not stop anybody's digests."""
    row = await confirmed_address()
    for method in ("GET", "HEAD"):
        response = await client.request(method, digest_path(row))
        assert response.status == 200
        assert_private(response)
    assert not (await fresh(row)).digest_unsubscribed
    page = await (await client.get(digest_path(row))).text()
    assert "<b>tom&amp;jerry@example.org</b>" in page and "tom&jerry" not in page
    assert "reminders by email keep coming" in page
    action, inside = form_in(page)
    assert action == digest_path(row) and "Stop digests" in inside
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', inside))
    assert fields == ONE_CLICK

    response = await client.post(action, data=fields)
    assert response.status == 200
    assert_private(response)
    assert "Digests stopped" in await response.text()
    row = await fresh(row)
    assert row.digest_unsubscribed and not row.unsubscribed
    page = await (await client.get(digest_path(row))).text()  # again: it says so, no button
    assert "Digests stopped" in page and "<form" not in page


async def test_one_click_from_the_digest_header_stops_digests_and_keeps_reminders(client):
    """What a mail client does: POST `List-Unsubscribe=One-Click` to the header's URL, in a fresh session."""
    row = await confirmed_address()
    contest = ContestInfo(1, "codeforces", "2100", "Round", "https://codeforces.com/contest/2100",
                          datetime.now(UTC) + timedelta(hours=3), 7200)
    now = datetime.now(UTC)
    letter = digest_email(make_i18n(), Locale("en", "UTC"), row, [contest], DigestSchedule(Frequency.DAILY, 480),
                          now, from_address="contestbell <bell@example.org>",
                          base_url=str(client.make_url("")).rstrip("/"), now=now)
    url = re.fullmatch(r"<(.+)>", letter["List-Unsubscribe"].strip()).group(1)
    assert url.endswith(digest_path(row)) and letter["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as mail_client:
        async with mail_client.post(url, data="List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            assert response.status == 200
            assert "Set-Cookie" not in response.headers
        async with mail_client.post(url, data="List-Unsubscribe=One-Click") as again:  # repeated: still fine
            assert again.status == 200
    row = await fresh(row)
    assert row.digest_unsubscribed and not row.unsubscribed
    assert list(await email_recipients([row.account_id])) == [row.account_id]  # reminders still come


async def test_an_address_unsubscribed_from_everything_is_told_so(client):
    row = await confirmed_address(unsubscribed=True)
    for method in ("GET", "POST"):
        response = await client.request(method, digest_path(row), data=ONE_CLICK)
        page = await response.text()
        assert response.status == 200 and "No more emails from contestbell" in page and "<form" not in page
    assert (await fresh(row)).unsubscribed


async def test_other_tokens_of_the_address_do_not_stop_digests(client):
    row = await confirmed_address()
    response = await client.post(f"/email/digest-unsubscribe/{row.verify_token}", data=ONE_CLICK)
    assert response.status == 404
    assert not (await fresh(row)).digest_unsubscribed


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unknown_tokens_are_404_and_change_nothing(client, method):
    row = await confirmed_address()
    for token in ("no-such-token", "x" * 65, row.token[:-1], row.token + "A"):
        response = await client.request(method, f"/email/digest-unsubscribe/{token}", data=ONE_CLICK)
        assert response.status == 404, token
        assert_private(response)
        assert "Unknown link" in await response.text()
    assert not (await fresh(row)).digest_unsubscribed


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
async def test_a_token_not_shaped_like_ours_is_404_without_a_query(client, method):
    for token in ("%00", "A" * 40 + "%00", "%ED%A0%80" * 8, "%C0%AF" * 8, "%FF" * 20, "ä" * 40, "A" * 40 + "%20B",
                  "A" * 40 + "=", "A" * 15, "A" * 65, "A" * 5000):
        with count_queries("email_address") as queries:
            response = await client.request(method, "/email/digest-unsubscribe/" + token, data=ONE_CLICK)
        assert response.status == 404, token
        assert queries.count == 0, token
