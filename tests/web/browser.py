"""Driving Debian's Chromium with Playwright (STACK_NOTES section 8): launching it, watching a page's console for
Content-Security-Policy violations and script errors, checking every page it loads with axe-core, and keeping
screenshots in test-artifacts/.

Every browser test opens its pages with `opened()`, which runs axe-core (WCAG 2.1 A and AA) on each page the test's
tab loads from the site under test, whether by an address, a click or a form, and fails the test on any violation
(tests/web/test_audit.py keeps browser tests from opening a tab any other way)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, Page, Route, async_playwright

CHROMIUM = Path(os.environ.get("CONTESTBELL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: the rules axe-core checks: WCAG 2.0 and 2.1, levels A and AA
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_TIMEOUT = 60.0
ColourScheme = Literal["light", "dark"]
SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def require_chromium() -> None:
    """Skip without Debian's chromium (fail under CI=true, where it must be installed)."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Console:
    """What a page said on its console and which script errors it threw."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._message)
        page.on("pageerror", self._error)

    def _message(self, message: ConsoleMessage) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def _error(self, error: Error) -> None:
        self.errors.append(str(error))

    def assert_clean(self) -> None:
        violations = [text for text in self.messages if "Content Security Policy" in text]
        assert not violations, violations
        assert not self.errors, self.errors


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def without_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


@dataclass
class Audit:
    """axe-core on every page a tab loads from `site` (an origin; other sites, such as an OAuth provider's login
    page, are not ours to check). When a page has loaded, its document as it is then (after its deferred script
    ran) is copied at once, and checked in `auditor`: a tab of a twin context with JavaScript on (axe-core runs in
    the page) where that copy is served, without its scripts, at the page's own address. So a page without
    JavaScript is checked too, and the test goes on while the copy is checked."""

    auditor: Page
    site: str
    checks: list[asyncio.Task[None]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    def watch(self, page: Page) -> None:
        page.on("domcontentloaded", self._loaded)

    def _loaded(self, page: Page) -> None:
        url = page.url
        if origin(url) == self.site or not url.startswith("http"):
            self.checks.append(asyncio.ensure_future(self._check(page, url)))

    async def _check(self, page: Page, url: str) -> None:
        try:
            html = await page.content()
        except Error:  # already gone to the next page: the same address again, with the tab's cookies
            html = await (await page.context.request.get(url)).text()
        async with self.turn:
            await self._show(url, SCRIPT.sub("", html))
            self.violations.extend(f"{url}: {violation}" for violation in await accessibility_violations(self.auditor))
            self.checked.append(url)

    async def _show(self, url: str, html: str) -> None:
        if not url.startswith("http"):
            await self.auditor.set_content(html)
            return
        address = without_fragment(url)

        async def serve(route: Route) -> None:
            await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        await self.auditor.route(lambda requested: without_fragment(requested) == address, serve, times=1)
        await self.auditor.goto(url)

    async def assert_clean(self) -> None:
        """Wait for the checks of every page loaded so far; none may have found a violation."""
        await asyncio.gather(*self.checks)
        assert self.checked, "no page of the site was checked by axe-core"
        assert not self.violations, "axe-core (WCAG 2.1 A/AA):\n" + "\n".join(self.violations)


async def twin_context(browser: Browser, *, timezone_id: str, locale: str, width: int, javascript: bool,
                       colour_scheme: ColourScheme) -> BrowserContext:
    return await browser.new_context(timezone_id=timezone_id, locale=locale, java_script_enabled=javascript,
                                     viewport={"width": width, "height": 900}, color_scheme=colour_scheme)


@asynccontextmanager
async def opened(browser: Browser, url: str, *, timezone_id: str = "UTC", locale: str = "en-US",
                 width: int = 1280, javascript: bool = True,
                 colour_scheme: ColourScheme = "light") -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) with `url` open, in the given colour scheme. On leaving, the console
    must be clean and axe-core must have found nothing on any page of `url`'s site that the tab loaded."""
    settings = {"timezone_id": timezone_id, "locale": locale, "width": width, "colour_scheme": colour_scheme}
    context = await twin_context(browser, javascript=javascript, **settings)
    auditing = await twin_context(browser, javascript=True, **settings)
    page = await context.new_page()
    console = Console()
    console.watch(page)
    audit = Audit(await auditing.new_page(), origin(url))
    audit.watch(page)
    try:
        await page.goto(url)
        yield page
        console.assert_clean()
        await audit.assert_clean()
    finally:
        for check in audit.checks:
            check.cancel()
        await asyncio.gather(*audit.checks, return_exceptions=True)
        await context.close()
        await auditing.close()


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def accessibility_violations(page: Page) -> list[str]:
    """What axe-core (the copy axe-playwright-python ships) finds against WCAG 2.1 A and AA on the page as it is
    now: one line per rule broken, with the elements that break it. axe-core runs in the page, so the page's
    JavaScript must be on (without it axe never answers: `AXE_TIMEOUT`)."""
    results = await asyncio.wait_for(Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                                              "resultTypes": ["violations"]}), AXE_TIMEOUT)
    return [f"{rule['id']} ({rule['impact']}): {rule['help']}: " + ", ".join(
        " ".join(node["target"]) for node in rule["nodes"][:5]) for rule in results.response["violations"]]
