"""Driving Debian's Chromium with Playwright (STACK_NOTES section 8): launching it, watching a page's console for
Content-Security-Policy violations and script errors, checking a page with axe-core, and keeping screenshots in
test-artifacts/."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright

CHROMIUM = Path(os.environ.get("CONTESTBELL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: the rules axe-core checks: WCAG 2.0 and 2.1, levels A and AA
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_TIMEOUT = 60.0


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


@asynccontextmanager
async def opened(browser: Browser, url: str, *, timezone_id: str = "UTC", locale: str = "en-US",
                 width: int = 1280, javascript: bool = True) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) with `url` open; on leaving, the console must be clean."""
    context = await browser.new_context(timezone_id=timezone_id, locale=locale, java_script_enabled=javascript,
                                        viewport={"width": width, "height": 900})
    page = await context.new_page()
    console = Console()
    console.watch(page)
    try:
        await page.goto(url)
        yield page
        console.assert_clean()
    finally:
        await context.close()


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
