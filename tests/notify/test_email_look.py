"""The emails as people see them: each kind (a reminder, grouped reminders, a moved contest, a digest, the
verification email) rendered in headless Chromium at a desktop client's width (600 px) and a phone's (375 px), in
light and dark mode, kept as screenshots in test-artifacts/email-<kind>-<light|dark>-<width>.png.

What must hold in every one: no horizontal scrolling, the button fully on screen and big enough to tap, the
contest's title readable, and in dark mode a dark card (light mode: a light one)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from notify.digest import DigestSchedule, Frequency, digest_email
from notify.email import notice_email, reminder_email, verification_email
from notify.i18n import make_i18n
from notify.messages import ContestInfo, Locale, Notice, Reminder
from tests.notify.test_email import BASE_URL, FROM, TOKEN, VERIFY_TOKEN, parts
from tests.web.browser import chromium, opened, screenshot

NOW = datetime(2030, 11, 26, 20, 33, tzinfo=UTC)
BERLIN = Locale("en", "Europe/Berlin")
LONG = ContestInfo(1, "codeforces", "2150", "Codeforces Round 1061 (Div. 1 + Div. 2, based on the Final Round of "
                   "the Olympiad of Metropolises and a very long name)", "https://codeforces.com/contest/2150",
                   NOW + timedelta(hours=1), 2 * 3600 + 30 * 60, "Codeforces")
ABC = ContestInfo(2, "atcoder", "abc430", "AtCoder Beginner Contest 430", "https://atcoder.jp/contests/abc430",
                  NOW + timedelta(hours=1), 100 * 60, "AtCoder")
WEEKLY = ContestInfo(3, "leetcode", "weekly-contest-478", "Weekly Contest 478",
                     "https://leetcode.com/contest/weekly-contest-478", NOW + timedelta(days=1, hours=6), 90 * 60,
                     "LeetCode")
WIDTHS = (600, 375)


class To:
    address = "ann@example.org"
    token = TOKEN
    verify_token = VERIFY_TOKEN


def options() -> dict:
    return {"from_address": FROM, "base_url": BASE_URL, "now": NOW}


EMAILS: dict[str, Callable[[], EmailMessage]] = {
    "reminder": lambda: reminder_email(make_i18n(), BERLIN, To(), [Reminder(LONG, 3600)], **options()),
    "grouped": lambda: reminder_email(make_i18n(), BERLIN, To(), [Reminder(LONG, 3600), Reminder(ABC, 3600)],
                                      **options()),
    "moved": lambda: notice_email(make_i18n(), BERLIN, To(), Notice("moved", LONG, LONG.start - timedelta(days=1)),
                                  **options()),
    "digest": lambda: digest_email(make_i18n(), BERLIN, To(), [LONG, ABC, WEEKLY],
                                   DigestSchedule(Frequency.WEEKLY, 8 * 60, 1), NOW, **options()),
    "verification": lambda: verification_email(make_i18n(), To(), "en", **options()),
}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


def luminance(css_colour: str) -> float:
    """0 (black) .. 1 (white) of an 'rgb(r, g, b)' computed colour."""
    red, green, blue = (int(part) for part in css_colour.split("(")[1].split(")")[0].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


async def assert_fits(page: Page, width: int) -> None:
    """No horizontal scrolling; the main button wholly on screen and big enough for a thumb."""
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= width
    button = page.locator(".cb-button a").first
    assert await button.is_visible()
    box = await button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["height"] >= 36, box


async def background_of(page: Page) -> str:
    """The background people read the contests on: the first card's, or the page's when there is none."""
    surface = page.locator(".cb-card").first if await page.locator(".cb-card").count() else page.locator("body")
    return await surface.evaluate("element => getComputedStyle(element).backgroundColor")


@pytest.mark.parametrize("kind", list(EMAILS))
async def test_each_email_reads_well_on_a_desktop_and_a_phone_in_light_and_dark(browser, tmp_path: Path, kind):
    message = EMAILS[kind]()
    _text, html, _attachments = parts(message)
    page_file = tmp_path / f"{kind}.html"
    page_file.write_text(html, encoding="utf-8")
    for width in WIDTHS:
        async with opened(browser, page_file.as_uri(), width=width) as page:
            for scheme in ("light", "dark"):
                await page.emulate_media(color_scheme=scheme)
                await assert_fits(page, width)
                shade = luminance(await background_of(page))
                assert shade < 0.25 if scheme == "dark" else shade > 0.9, (scheme, shade)
                await screenshot(page, f"email-{kind}-{scheme}-{width}")
            if kind != "verification":
                assert await page.get_by_role("heading", name=LONG.title).is_visible()
            container = await page.locator(".cb-container").bounding_box()
            assert container is not None and container["width"] <= 600


async def test_a_card_shows_the_absolute_time_first_and_the_zone_once(browser, tmp_path: Path):
    """What the eye meets first on a card is the start in the person's zone, then how far away it is; the zone
    with its offset is said once, above the cards."""
    _text, html, _attachments = parts(EMAILS["grouped"]())
    page_file = tmp_path / "grouped.html"
    page_file.write_text(html, encoding="utf-8")
    async with opened(browser, page_file.as_uri(), width=375) as page:
        body = await page.locator("body").inner_text()
        assert body.count("Berlin (UTC+1)") == 1
        card = await page.locator(".cb-card").first.inner_text()
        assert card.index("Tue, 26 Nov, 22:33") < card.index("in 1 h")
