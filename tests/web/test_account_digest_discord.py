"""The digest and Discord on /account: the same rules as the bot's /digest and /discord (the same parser, the
same URL check and test message through a fake Discord over HTTP), and /api/v1/me says what is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from models.account import Account, DiscordWebhook, EmailAddress, OAuthIdentity
from notify.discord import DiscordChannel
from notify.i18n import make_i18n
from tests.fake_discord import FakeDiscord
from tests.web.accounts import AccountsSite, accounts_site, csrf_of, sign_in_with_oidc

WEBHOOK_ID = 123456789012345678
WEBHOOK_TOKEN = "w" * 40 + "_-" * 10
WEBHOOK_URL = f"https://discordapp.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"


@pytest.fixture
async def fake_discord() -> AsyncIterator[tuple[FakeDiscord, str]]:
    fake = FakeDiscord()
    fake.add_webhook(WEBHOOK_ID, WEBHOOK_TOKEN)
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server(access_log=None)
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        fake.release()
        await server.close()


@pytest.fixture
async def site(db, fake_discord) -> AsyncIterator[AccountsSite]:
    channel = DiscordChannel(make_i18n(), fake_discord[1], backoff=0.01)
    async with accounts_site(discord=channel) as running:
        yield running
    await channel.aclose()


async def signed_in_account(site: AccountsSite, browser) -> Account:
    assert (await sign_in_with_oidc(site, browser, "ada")).status == 200
    return await Account.get(id=(await OAuthIdentity.get(subject="sub-ada")).account_id)


async def test_the_digest_form_saves_what_the_bot_would_and_refuses_what_it_would(site):
    async with site.browser() as browser:
        account = await signed_in_account(site, browser)
        await EmailAddress.create(address="ada@example.org", account=account, token="a" * 40,
                                  digest_unsubscribed=True)
        page = await browser.post("/account/digest", data={"csrf": await csrf_of(browser), "frequency": "weekly",
                                                            "weekday": "thu", "time": "19:45"})
        assert page.status == 200 and "Saved: the digest comes every week on Thursday at 19:45." in await page.text()
        stored = await Account.get(id=account.id)
        assert (stored.digest, stored.digest_weekday, stored.digest_minute) == ("weekly", 3, 19 * 60 + 45)
        assert not (await EmailAddress.get(address="ada@example.org")).digest_unsubscribed
        assert (await (await browser.get("/api/v1/me")).json())["digest"] == "weekly thu 19:45"

        page = await browser.post("/account/digest", data={"csrf": await csrf_of(browser), "frequency": "daily",
                                                            "weekday": "thu", "time": "24:10"})
        assert "24-hour clock" in await page.text()
        assert (await Account.get(id=account.id)).digest == "weekly"  # nothing changed
        page = await browser.post("/account/digest", data={"csrf": await csrf_of(browser), "frequency": "hourly",
                                                            "time": "10:00"})
        assert "daily, weekly or off" in await page.text()

        await browser.post("/account/digest", data={"csrf": await csrf_of(browser), "frequency": "off"})
        assert (await Account.get(id=account.id)).digest is None
        assert (await (await browser.get("/api/v1/me")).json())["digest"] == "off"
        forged = await browser.post("/account/digest", data={"frequency": "daily", "time": "08:00"})
        assert forged.status == 403


async def test_a_discord_webhook_is_checked_tested_stored_and_removed(site, fake_discord):
    fake, _base = fake_discord
    async with site.browser() as browser:
        account = await signed_in_account(site, browser)
        page = await browser.post("/account/discord", data={"csrf": await csrf_of(browser),
                                                             "url": "http://127.0.0.1:9/api/webhooks/1/x"})
        assert "not a Discord webhook address" in await page.text()
        assert fake.sent() == [] and fake.strays == []

        unknown = WEBHOOK_URL.replace(str(WEBHOOK_ID), "223456789012345678")
        page = await browser.post("/account/discord", data={"csrf": await csrf_of(browser), "url": unknown})
        assert "does not know this webhook" in await page.text()
        assert not await DiscordWebhook.exists(account_id=account.id)

        page = await browser.post("/account/discord", data={"csrf": await csrf_of(browser), "url": WEBHOOK_URL})
        text = await page.text()
        assert "Connected" in text and str(WEBHOOK_ID) in text and WEBHOOK_TOKEN not in text
        assert len(fake.sent(WEBHOOK_ID)) == 1
        assert (await DiscordWebhook.get(account_id=account.id)).token == WEBHOOK_TOKEN
        assert (await (await browser.get("/api/v1/me")).json())["discord"] is True

        await browser.post("/account/discord/remove", data={"csrf": await csrf_of(browser)})
        assert not await DiscordWebhook.exists(account_id=account.id)
