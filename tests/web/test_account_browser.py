"""A person in Chromium (Debian's, through Playwright): signs in with the OpenID Connect provider's own login and
consent page, changes a setting on the account page, connects nothing twice, and signs out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from models.account import Account
from tests.web.accounts import AccountsSite, accounts_site
from tests.web.browser import opened, screenshot

pytestmark = [pytest.mark.db, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
async def site(db) -> AsyncIterator[AccountsSite]:
    async with accounts_site() as site:
        yield site


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_sign_in_with_the_providers_page_change_a_setting_and_sign_out(site, browser, scheme):
    """Each page of ours on the way is checked by axe-core as it loads (opened()), in this colour scheme."""
    async with opened(browser, site.base + "/login", colour_scheme=scheme) as page:
        await page.get_by_role("link", name="Sign in with Example ID").click()
        await page.locator("input[name=login]").fill("ann")
        await page.locator("button[name=decision][value=allow]").click()
        await expect(page).to_have_url(re.compile(r"/account$"))
        await expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
        await expect(page.get_by_text("ann@example.org")).to_be_visible()
        await page.get_by_label("Time zone").fill("Asia/Tokyo")
        await page.get_by_label("Reminders before the start").fill("1d 30m")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text("Saved")
        await screenshot(page, f"account-saved-{scheme}")
        await page.get_by_label("Reminders before the start").fill("99x")
        await page.get_by_role("button", name="Save", exact=True).click()
        await expect(page.locator("#reminders-problem")).to_contain_text("99x")
        await expect(page.locator("#reminders")).to_have_attribute("aria-invalid", "true")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(re.compile(r"/$"))
    account = await Account.get(oauth_identities__subject="sub-ann")
    assert account.timezone == "Asia/Tokyo" and account.reminder_offsets == [86400, 1800]


async def test_a_denied_consent_shows_why_in_russian(site, browser):
    async with opened(browser, site.base + "/login?lang=ru", locale="ru-RU") as page:
        await page.get_by_role("link", name=re.compile("Example ID")).click()
        await page.locator("input[name=login]").fill("ann")
        await page.locator("button[name=decision][value=deny]").click()
        await expect(page.get_by_role("alert")).to_be_visible()
        assert "Вы не разрешили вход в Example ID" in await page.get_by_role("alert").inner_text()
    assert not await Account.exists()
