"""The calendar in a real browser (Playwright driving Debian's Chromium) against the real app and database:
contests from the database, the filter form, switching views, the browser's zone, and contests ingested
while the page is open appearing and moving without a reload. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, expect

from fetchers.contest import Contest as Fetched
from fetchers.events import LocalBus
from fetchers.ingest import ingest
from tests.web.browser import accessibility_violations, opened, screenshot
from web.app import make_web_app

pytestmark = pytest.mark.db

#: a page must show a change this soon after ingest
LIVE_WITHIN = 1.0


class Site:
    """The real app on 127.0.0.1 and the bus that its live pages listen to."""

    def __init__(self, server: TestServer, bus: LocalBus) -> None:
        self.server, self.bus = server, bus

    def url(self, path: str = "/") -> str:
        return str(self.server.make_url(path))

    async def fetched(self, site: str, contests: list[Fetched]) -> None:
        """What the pipeline does with a successful fetch: ingest it, then ring the bus."""
        await ingest(site, contests, datetime.now(UTC))
        await self.bus.wake()


@pytest.fixture
async def site(db) -> AsyncIterator[Site]:
    bus = LocalBus()
    server = TestServer(make_web_app(bus=bus), host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(server, bus)
    finally:
        await server.close()


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def codeforces(key: str, title: str, start: datetime, hours: float = 2) -> Fetched:
    return Fetched("codeforces", key, title, f"https://codeforces.com/contest/{key}", start, round(hours * 3600))


def atcoder(key: str, title: str, start: datetime, hours: float = 1.67) -> Fetched:
    return Fetched("atcoder", key, title, f"https://atcoder.jp/contests/{key}", start, round(hours * 3600))


async def titles(page: Page) -> list[str]:
    return [text.strip() for text in await page.locator("#calendar .contest .title").all_inner_texts()]


async def seed(site: Site) -> tuple[list[Fetched], list[Fetched]]:
    cf = [codeforces("2040", "Codeforces Round 1000 (Div. 2)", hours_from_now(20)),
          codeforces("2041", "Educational Codeforces Round 170", hours_from_now(45))]
    ac = [atcoder("abc400", "AtCoder Beginner Contest 400", hours_from_now(30))]
    await site.fetched("codeforces", cf)
    await site.fetched("atcoder", ac)
    return cf, ac


async def test_the_calendar_shows_the_database_and_the_form_filters_it(site, browser):
    await seed(site)
    async with opened(browser, site.url()) as page:
        assert await titles(page) == ["Codeforces Round 1000 (Div. 2)", "AtCoder Beginner Contest 400",
                                      "Educational Codeforces Round 170"]
        await screenshot(page, "calendar-list")
        filters = page.locator("details.filters")
        assert not await filters.evaluate("details => details.open")  # closed: the contests come first on a phone
        await page.get_by_text("Filters and time zone").click()
        await page.get_by_label("AtCoder", exact=True).check()
        await page.get_by_role("button", name="Show").click()
        await expect(page.locator("#calendar .contest")).to_have_count(1)
        assert await titles(page) == ["AtCoder Beginner Contest 400"]
        assert "site=atcoder" in page.url and "q=" not in page.url  # empty fields stay out of the address
        await page.get_by_label("Title contains").fill("nothing like this")
        await page.get_by_role("button", name="Show").click()
        await expect(page.locator("#calendar .empty")).to_be_visible()
        await screenshot(page, "calendar-filtered")


async def test_views_switch_by_clicking_and_keep_the_filter(site, browser):
    _cf, ac = await seed(site)
    async with opened(browser, site.url("/?site=atcoder")) as page:
        await page.get_by_role("link", name="Month", exact=True).click()
        await expect(page.locator("#calendar.month")).to_be_visible()
        assert "view=month" in page.url and "site=atcoder" in page.url
        day = ac[0].start.date().isoformat()
        cell = page.locator(f'#calendar .day:has(h3 time[datetime="{day}"])')
        await expect(cell.locator(".title")).to_have_text("AtCoder Beginner Contest 400")
        assert await page.locator("#calendar .contest").count() == 1
        await screenshot(page, "calendar-month")
        await page.get_by_role("link", name="Week", exact=True).click()
        await expect(page.locator("#calendar.week .day")).to_have_count(7)
        await page.get_by_role("link", name="Next →").click()
        await expect(page.locator("#calendar.week")).to_be_visible()
        assert "date=" in page.url
        await screenshot(page, "calendar-week")
        await page.get_by_role("link", name="List", exact=True).click()
        await expect(page.locator("#calendar.list")).to_be_visible()
        assert await titles(page) == ["AtCoder Beginner Contest 400"]


async def test_times_follow_the_browsers_zone(site, browser):
    start = hours_from_now(30).replace(hour=22, minute=30)  # 07:30 the next day in Tokyo
    await site.fetched("codeforces", [codeforces("2040", "Codeforces Round 1000", start)])
    async with opened(browser, site.url(), timezone_id="Asia/Tokyo") as page:
        await expect(page.locator("#calendar")).to_have_attribute("data-zone", "Asia/Tokyo")
        await expect(page.locator("#calendar time.start")).to_have_text("07:30")
        assert await page.locator("#tz").input_value() == "Asia/Tokyo"
        cookies = {cookie["name"]: cookie["value"] for cookie in await page.context.cookies()}
        assert cookies["tz"] == "Asia/Tokyo"
        await page.reload()  # now the server renders the remembered zone itself
        await expect(page.locator("#calendar")).to_have_attribute("data-zone-chosen", "1")
        await expect(page.locator("#calendar time.start")).to_have_text("07:30")
        await screenshot(page, "calendar-tokyo")
    async with opened(browser, site.url("/?tz=Europe/Berlin"), timezone_id="Asia/Tokyo") as page:
        await expect(page.locator("#calendar time.start")).to_have_text("23:30")  # the address wins


async def changed_within(page: Page, change, selector: str, name: str, state: str = "attached") -> float:
    """Run `change` (ingest and publish) and measure how long until `selector` is on the page (or gone)."""
    started = time.monotonic()
    await change()
    await page.wait_for_selector(selector, state=state, timeout=5000)
    elapsed = time.monotonic() - started
    print(f"{name}: shown {elapsed * 1000:.0f} ms after the ingest began")
    await screenshot(page, name)
    assert elapsed < LIVE_WITHIN, f"{name}: the page showed the change after {elapsed:.2f} s"
    return elapsed


async def test_ingested_changes_appear_on_the_open_page_without_a_reload(site, browser):
    cf, ac = await seed(site)
    async with opened(browser, site.url(), width=420) as page, \
            opened(browser, site.url("/?site=atcoder")) as atcoder_page:
        await expect(page.locator("html")).to_have_attribute("data-live", "connected")
        await expect(atcoder_page.locator("html")).to_have_attribute("data-live", "connected")
        await page.evaluate("window.sameDocument = 'yes'")
        await page.evaluate("window.loads = performance.getEntriesByType('navigation').length")

        new = codeforces("2042", "Codeforces Round 1001 (Div. 1)", hours_from_now(25))
        await changed_within(page, lambda: site.fetched("codeforces", [*cf, new]),
                             '[data-contest="codeforces:2042"]', "live-new")
        assert await titles(page) == ["Codeforces Round 1000 (Div. 2)", "Codeforces Round 1001 (Div. 1)",
                                      "AtCoder Beginner Contest 400", "Educational Codeforces Round 170"]
        await expect(page.locator("#live")).to_contain_text("New contest: Codeforces Round 1001 (Div. 1)")

        moved = codeforces("2040", cf[0].title, hours_from_now(50))
        moved_at = moved.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        await changed_within(page, lambda: site.fetched("codeforces", [moved, cf[1], new]),
                             f'[data-contest="codeforces:2040"] time[datetime="{moved_at}"]', "live-moved")
        assert await titles(page) == ["Codeforces Round 1001 (Div. 1)", "AtCoder Beginner Contest 400",
                                      "Educational Codeforces Round 170", "Codeforces Round 1000 (Div. 2)"]
        await expect(page.locator('[data-contest="codeforces:2040"]')).to_contain_class("changed")
        await expect(page.locator("#live")).to_contain_text(
            f"Codeforces Round 1000 (Div. 2) moved to {moved.start:%a %-d %b, %H:%M}")

        renamed = atcoder("abc400", "AtCoder Beginner Contest 400 (rated)", ac[0].start)
        await changed_within(page, lambda: site.fetched("atcoder", [renamed]),
                             'text="AtCoder Beginner Contest 400 (rated)"', "live-renamed")

        await site.fetched("codeforces", [moved, new])  # one fetch without it: not cancelled yet
        await changed_within(page, lambda: site.fetched("codeforces", [moved, new]),
                             '[data-contest="codeforces:2041"]', "live-cancelled", state="detached")
        await expect(page.locator("#live")).to_contain_text("Educational Codeforces Round 170 was cancelled")

        live_elsewhere = atcoder_page.locator("#live")  # a page of another site hears only its own contests
        await expect(live_elsewhere).to_have_text("AtCoder Beginner Contest 400 is now called "
                                                  "AtCoder Beginner Contest 400 (rated)")
        await expect(atcoder_page.locator("#calendar .title")).to_have_text("AtCoder Beginner Contest 400 (rated)")

        assert await page.evaluate("window.sameDocument") == "yes"  # the page was never reloaded
        assert await page.evaluate("performance.getEntriesByType('navigation').length") == await page.evaluate(
            "window.loads")


async def test_the_keyboard_reaches_the_calendar_and_the_zone_picker_with_a_visible_focus(site, browser):
    start = hours_from_now(30).replace(hour=22, minute=30)  # 04:00 the next day in Kolkata
    await site.fetched("codeforces", [codeforces("2040", "Codeforces Round 1000", start)])
    async with opened(browser, site.url()) as page:
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to the contests")
        await expect(skip).to_be_focused()
        assert await skip.evaluate("link => getComputedStyle(link).outlineStyle") == "solid"
        assert (await skip.bounding_box())["y"] >= 0  # shown when focused
        await page.keyboard.press("Enter")
        await expect(page.locator("#calendar")).to_be_focused()
        change = page.get_by_role("link", name="Change the time zone")
        await change.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#tz")).to_be_visible()  # the closed filters open for the link
        await page.locator("#tz").fill("Asia/Kolkata")
        await page.keyboard.press("Enter")
        await expect(page.locator("#calendar time.start")).to_have_text("04:00")
        assert "tz=Asia%2FKolkata" in page.url
        await screenshot(page, "calendar-keyboard")


async def test_without_javascript_the_calendar_still_filters_switches_and_takes_a_zone(site, browser):
    start = hours_from_now(30).replace(hour=22, minute=30)
    await site.fetched("codeforces", [codeforces("2040", "Codeforces Round 1000", start)])
    await site.fetched("atcoder", [atcoder("abc400", "AtCoder Beginner Contest 400", start + timedelta(hours=1))])
    async with opened(browser, site.url(), timezone_id="Asia/Tokyo", javascript=False) as page:
        await expect(page.locator("#calendar")).to_have_attribute("data-zone", "UTC")  # nothing detects the zone
        await expect(page.locator("#calendar time.start").first).to_have_text("22:30")
        await page.get_by_text("Filters and time zone").click()
        await page.get_by_label("Codeforces", exact=True).check()
        await page.get_by_label("Time zone").fill("Asia/Tokyo")
        await page.get_by_role("button", name="Show").click()
        assert await titles(page) == ["Codeforces Round 1000"]
        await expect(page.locator("#calendar time.start")).to_have_text("07:30")
        await page.get_by_role("link", name="Week", exact=True).click()
        day = (start + timedelta(hours=9)).date().isoformat()
        await expect(page.locator(f'#calendar .day:has(time[datetime="{day}"]) .title')).to_have_text(
            "Codeforces Round 1000")
        await screenshot(page, "calendar-no-javascript")


def day_cell(page: Page, day: date):
    return page.locator(f'#calendar .day:has(h3 time[datetime="{day.isoformat()}"])')


async def test_a_contest_of_three_days_is_on_each_of_its_days_with_one_menu(site, browser):
    start = datetime(2031, 3, 11, 9, 0, tzinfo=UTC)  # a Tuesday, until Thursday 21:00
    await site.fetched("codeforces", [codeforces("3000", "Three Day Cup", start, hours=60)])
    async with opened(browser, site.url("/?view=month&date=2031-03-11")) as page:
        for view in ("month", "week"):
            if view == "week":
                await page.get_by_role("link", name="Week", exact=True).click()
                await expect(page.locator("#calendar.week")).to_be_visible()
            for offset in range(3):
                await expect(day_cell(page, start.date() + timedelta(days=offset)).locator(".title")).to_have_text(
                    "Three Day Cup")
            await expect(day_cell(page, start.date() + timedelta(days=1)).locator(".continuation")).to_have_text(
                "continued")
            await expect(day_cell(page, start.date() + timedelta(days=3)).locator(".contest")).to_have_count(0)
            await expect(day_cell(page, start.date() - timedelta(days=1)).locator(".contest")).to_have_count(0)
            menus = page.locator('#calendar [data-contest="codeforces:3000"] details.add')
            await expect(menus).to_have_count(1)
            links = menus.get_by_role("link")
            await expect(links.first).to_be_hidden()  # closed until asked for
            await menus.locator("summary").focus()
            await page.keyboard.press("Enter")
            await expect(links).to_have_count(2)
            await expect(links.nth(0)).to_have_attribute("href", re.compile(r"^https://calendar\.google\.com/"))
            await expect(links.nth(1)).to_have_attribute("href", re.compile(r"^/contest/\d+\.ics$"))
            await expect(links.nth(1)).to_be_visible()
            assert await accessibility_violations(page) == []  # the menu open
            await screenshot(page, f"calendar-{view}-three-days")


async def test_a_marathon_started_last_week_is_in_this_weeks_view(site, browser):
    now = datetime.now(UTC)
    await site.fetched("atcoder", [atcoder("marathon", "Heuristic Marathon", now - timedelta(days=8), hours=20 * 24)])
    async with opened(browser, site.url("/?view=week")) as page:
        today = page.locator("#calendar .day.today")
        await expect(today.locator(".title")).to_have_text("Heuristic Marathon")
        await expect(page.locator("#calendar .day .title")).to_have_count(7)  # every day of this week
        monday = page.locator("#calendar .day").first
        await expect(monday.locator(".continuation")).to_have_text("continued")
        await monday.get_by_text("Add to calendar").click()  # its menu on the first day shown
        await expect(monday.get_by_role("link", name=re.compile("^Google Calendar"))).to_be_visible()


async def test_each_site_has_its_own_colour_and_the_legend_lists_the_sites_shown(site, browser):
    await seed(site)
    async with opened(browser, site.url()) as page:
        for view in ("List", "Month", "Week"):
            if view != "List":
                await page.get_by_role("link", name=view, exact=True).click()
                await expect(page.locator(f"#calendar.{view.lower()}")).to_be_visible()
            await expect(page.get_by_role("list", name="Sites in this view").get_by_role("listitem")).to_have_text(
                ["Codeforces", "AtCoder"])
            stripes = await colours_by_site(page.locator("#calendar .contest"), ".site", "borderLeftColor")
            assert set(stripes) == {"Codeforces", "AtCoder"} and stripes["Codeforces"] != stripes["AtCoder"], view
            swatches = await colours_by_site(page.locator("#calendar .legend li"), None, "backgroundColor", "::before")
            assert swatches == stripes, view


async def colours_by_site(items: Locator, name: str | None, style: str, pseudo: str = "") -> dict[str, str]:
    """Site name (the text of `name` within each item, or the item's) -> the computed `style` of the item."""
    colours = {}
    for item in await items.all():
        label = item.locator(name) if name else item
        colours[await label.inner_text()] = await item.evaluate(
            "(e, [style, pseudo]) => getComputedStyle(e, pseudo || null)[style]", [style, pseudo])
    return colours


def luminance(css_colour: str) -> float:
    """The relative luminance (WCAG) of a computed "rgb(r, g, b)"."""
    channels = [int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


async def test_the_colour_scheme_follows_the_system(site, browser):
    await seed(site)
    async with opened(browser, site.url("/?view=month")) as page:
        background = "() => getComputedStyle(document.body).backgroundColor"
        assert luminance(await page.evaluate(background)) > 0.9
        await page.emulate_media(color_scheme="dark")
        assert luminance(await page.evaluate(background)) < 0.05
        ink = await page.locator("h1").evaluate("e => getComputedStyle(e).color")
        assert luminance(ink) > 0.7
        assert await accessibility_violations(page) == []


async def test_a_refused_time_zone_stays_in_the_field_with_the_reason(site, browser):
    await seed(site)
    async with opened(browser, site.url()) as page:
        await page.get_by_text("Filters and time zone").click()
        await page.get_by_label("Time zone").fill("Mars/Olympus")
        await page.get_by_role("button", name="Show").click()
        field = page.get_by_label("Time zone")
        await expect(field).to_have_value("Mars/Olympus")
        await expect(field).to_have_attribute("aria-invalid", "true")
        await expect(field).to_have_accessible_description(re.compile("Unknown time zone: times are shown in UTC"))
        await expect(page.locator("#calendar")).to_have_attribute("data-zone", "UTC")
        await screenshot(page, "calendar-refused-zone")
        await field.fill("Asia/Tokyo")
        await page.get_by_role("button", name="Show").click()
        await expect(page.locator("#calendar")).to_have_attribute("data-zone", "Asia/Tokyo")
        await expect(page.get_by_label("Time zone")).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_view_in_light_and_dark(site, browser, scheme):
    """Each view is checked by axe-core as it loads (opened()), in this colour scheme; screenshots of each."""
    now = datetime.now(UTC)
    await seed(site)
    await site.fetched("atcoder", [atcoder("marathon", "Heuristic Marathon", now - timedelta(days=8), hours=20 * 24)])
    await site.fetched("leetcode", [Fetched("leetcode", "weekly-500", "Weekly Contest 500",
                                            "https://leetcode.com/contest/weekly-500", hours_from_now(50), 5400)])
    async with opened(browser, site.url(), colour_scheme=scheme) as page:
        for view in ("List", "Month", "Week"):
            if view != "List":
                await page.get_by_role("link", name=view, exact=True).click()
            await expect(page.locator(f"#calendar.{view.lower()}")).to_be_visible()
            await screenshot(page, f"calendar-{view.lower()}-{scheme}")
            await page.locator("#calendar details.add summary").first.click()  # a menu open, checked as well
            await expect(page.locator("#calendar details.add[open] a").first).to_be_visible()
            assert await accessibility_violations(page) == []
