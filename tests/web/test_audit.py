"""axe-core checks every page a browser test loads (tests/web/browser.py): a page reached by an address, a link or a
form, with or without JavaScript, in the light and the dark colour scheme; a violation fails the test. And no browser
test opens a tab any other way than through `opened()`, where that check lives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.web.browser import ColourScheme, opened

TESTS = Path(__file__).resolve().parents[1]
HELPER = Path(__file__).resolve().parent / "browser.py"
#: what makes a tab, or a browser, that `opened()` would not watch
UNWATCHED = re.compile(r"\b(new_page|new_context|launch_persistent_context|connect_over_cdp|async_playwright|"
                       r"sync_playwright)\s*\(")
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{style}</head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""
#: readable on white; in the dark scheme grey on black (1.7:1), which WCAG AA refuses
DARK_ONLY_PROBLEM = "<style>@media (prefers-color-scheme: dark) { body { background: #000; color: #333; } }</style>"


def html(title: str, body: str, style: str = "") -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering with a small page."""
    text = PAGE.format(title=title, body=body, style=style)

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="text/html")
    return handle


@pytest.fixture
async def pages() -> AsyncIterator[str]:
    """A site of four pages: a clean start page with a link and a form to a page with an image without a text
    alternative, a second clean page, and one that is only unreadable in the dark."""
    app = web.Application()
    app.router.add_get("/", html("Start", '<p><a href="/clean">Clean</a> <a href="/no-alt">No alt</a></p>'
                                 '<form action="/no-alt"><button>Send</button></form>'))
    app.router.add_get("/clean", html("Clean", "<p>Nothing wrong here.</p>"))
    app.router.add_get("/no-alt", html("No alt", '<p><img src="/missing.png"></p>'))
    app.router.add_get("/dark", html("Dark", "<p>Some text.</p>", DARK_ONLY_PROBLEM))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


@pytest.mark.parametrize("javascript", [True, False])
async def test_a_clean_site_passes_and_a_page_reached_by_a_link_is_checked(pages, browser, javascript):
    async with opened(browser, pages, javascript=javascript) as page:
        await page.get_by_role("link", name="Clean").click()
        await page.wait_for_url("**/clean")
    with pytest.raises(AssertionError, match=r"/no-alt: image-alt"):
        async with opened(browser, pages, javascript=javascript) as page:
            await page.get_by_role("link", name="No alt").click()
            await page.wait_for_url("**/no-alt")
            await page.go_back()  # gone before its check may have begun: it is checked all the same
            await page.wait_for_url(pages)


async def test_a_page_reached_by_a_form_is_checked(pages, browser):
    with pytest.raises(AssertionError, match=r"/no-alt\?: image-alt"):
        async with opened(browser, pages) as page:
            await page.get_by_role("button", name="Send").click()
            await page.wait_for_url("**/no-alt?")


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_pages_are_checked_in_the_colour_scheme_of_the_test(pages, browser, scheme: ColourScheme):
    if scheme == "light":
        async with opened(browser, pages + "dark", colour_scheme=scheme):
            pass
        return
    with pytest.raises(AssertionError, match=r"/dark: color-contrast"):
        async with opened(browser, pages + "dark", colour_scheme=scheme):
            pass


def test_browser_tests_open_tabs_only_through_the_audited_helper():
    found = [f"{path.relative_to(TESTS.parent)}:{number}: {line.strip()}"
             for path in sorted(TESTS.rglob("*.py")) if path != HELPER
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if UNWATCHED.search(line) and path != Path(__file__).resolve()]
    assert not found, "open pages with tests.web.browser.opened() (axe-core checks each page it loads):\n" + "\n".join(
        found)
