"""The calendar's site filter with sixty sites in a real browser (Playwright driving Debian's Chromium): grouped,
popular first; narrowed as one types in its search box (web/static/calendar.js); a plain list of checkboxes that
still filters without the script; and no axe-core violation of WCAG 2.1 A or AA, before and after a search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from models.catalog import listed_sites
from models.contest import Contest
from tests.catalog import fill_catalog
from tests.web.browser import accessibility_violations, opened, screenshot
from web.app import make_web_app

pytestmark = pytest.mark.db


@pytest.fixture
async def calendar(db) -> AsyncIterator[str]:
    """The real app with sixty listed sites and a contest on three of them; yields its address."""
    await fill_catalog(60)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    for hours, (site, title) in enumerate((("codeforces", "Codeforces Round 2100"), ("toph", "Toph Monthly"),
                                           ("alpha-cup", "Alpha Cup Final"))):
        begins = start + timedelta(hours=hours)
        await Contest.create(site_id=site, key=f"{site}-1", title=title, url=f"https://example.org/{site}",
                             start=begins, end=begins + timedelta(hours=2), duration=7200)
    server = TestServer(make_web_app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


async def shown_sites(page: Page) -> list[str]:
    return [await box.get_attribute("value") for box in await page.locator("input[name=site]:visible").all()]


async def titles(page: Page) -> list[str]:
    return [text.strip() for text in await page.locator("#calendar .contest .title").all_inner_texts()]


async def test_the_search_box_narrows_sixty_sites_as_one_types(calendar, browser):
    catalog = await listed_sites()
    async with opened(browser, calendar) as page:
        await page.get_by_text("Filters and time zone").click()
        assert await shown_sites(page) == [site.slug for site in catalog]
        legends = page.locator("fieldset.site-group > legend")
        assert await legends.all_inner_texts() == ["Popular sites", "All other sites, A–Z"]
        assert await accessibility_violations(page) == []

        search = page.get_by_label("Find a site")
        await search.fill("CUP")
        matching = [site.slug for site in catalog if "cup" in site.slug or "cup" in site.name.casefold()]
        await expect(page.locator("input[name=site]:visible")).to_have_count(len(matching))
        assert await shown_sites(page) == matching
        await expect(page.locator("[data-site-matches]")).to_have_text(f"{len(matching)} of 60 sites match.")
        await expect(legends.filter(has_text="Popular sites")).to_be_hidden()  # no popular site matches
        await screenshot(page, "calendar-sites-search")
        assert await accessibility_violations(page) == []

        await search.fill("tOpH")
        assert await shown_sites(page) == ["toph"]
        await page.get_by_label("toph", exact=True).check()
        await search.press("Enter")  # does not send the form: the search is no filter of its own
        assert "site=" not in page.url
        await search.fill("no such judge")
        await expect(page.locator("[data-site-matches]")).to_have_text("No site matches: try another name.")
        assert await shown_sites(page) == []
        await search.fill("")
        assert len(await shown_sites(page)) == 60

        await page.get_by_label("Alpha Cup", exact=True).check()
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**site=toph**")
        assert "site=alpha-cup" in page.url and "search" not in page.url
        assert await titles(page) == ["Toph Monthly", "Alpha Cup Final"]
        assert await accessibility_violations(page) == []


async def test_without_javascript_the_sites_are_a_plain_list_that_filters(calendar, browser):
    async with opened(browser, calendar, javascript=False) as page:
        await page.get_by_text("Filters and time zone").click()
        await expect(page.get_by_label("Find a site")).to_be_hidden()
        assert len(await shown_sites(page)) == 60
        await page.get_by_label("toph", exact=True).check()
        await page.get_by_role("button", name="Show").click()
        await page.wait_for_url("**site=toph**")
        assert await titles(page) == ["Toph Monthly"]  # (axe-core itself needs the page's JavaScript on)
