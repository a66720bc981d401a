"""The one HTTP client every site fetch goes through.

It sets timeouts and a clear User-Agent, retries 5xx answers, timeouts and dropped connections with
exponential backoff, spaces requests per host (Codeforces asks for one request per 2 s) and, when
CONTESTBELL_FETCH_VIA is set, sends `https://HOST/PATH?Q` to `$FETCH_VIA/HOST/PATH?Q` instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from fetchers.contest import load_json

USER_AGENT = "contestbell/0.1 (programming contest reminders; one request per site per few minutes)"


class FetchError(RuntimeError):
    """The site could not be reached or answered with an error status. `kind` says which in a few words that may
    be shown to anyone (`timeout`, `http 503`): the message, with addresses in it, is for the log only."""

    def __init__(self, message: str, kind: str = "fetch error") -> None:
        super().__init__(message)
        self.kind = kind


class RetryableFetchError(FetchError):
    """A failure worth another try: 5xx, a timeout, a dropped connection."""


def route_via(url: str, fetch_via: str | None) -> str:
    """Rewrite `https://HOST/PATH?Q` to `FETCH_VIA/HOST/PATH?Q` (unchanged when fetch_via is unset)."""
    if not fetch_via:
        return url
    parts = urlsplit(url)
    rest = parts.netloc + (parts.path or "/")
    if parts.query:
        rest += "?" + parts.query
    return fetch_via.rstrip("/") + "/" + rest


class HostSpacing:
    """Keeps at least `gap` seconds between the starts of two requests to the same host."""

    def __init__(self, gaps: Mapping[str, float]) -> None:
        self._gaps = dict(gaps)
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    async def wait_turn(self, host: str) -> None:
        gap = self._gaps.get(host, 0.0)
        if gap <= 0:
            return
        async with self._locks.setdefault(host, asyncio.Lock()):
            delay = self._last.get(host, -gap) + gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last[host] = time.monotonic()


class SiteClient:
    """GET/POST to contest sites with retries, spacing and the FETCH_VIA mirror."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        fetch_via: str | None = None,
        host_gaps: Mapping[str, float] | None = None,
        attempts: int = 3,
        retry_wait: float = 1.0,
    ) -> None:
        self._session = session
        self._fetch_via = fetch_via
        self._spacing = HostSpacing(host_gaps or {})
        self._attempts = attempts
        self._retry_wait = retry_wait

    async def get_text(self, url: str, headers: Mapping[str, str] | None = None) -> str:
        """`headers` carry what must not be in the URL (an API key: URLs end up in logs)."""
        return await self._request("GET", url, headers=headers)

    async def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        return load_json(await self.get_text(url, headers), url)

    async def post_json(self, url: str, body: Mapping[str, Any]) -> Any:
        return load_json(await self._request("POST", url, body), url)

    async def _request(self, method: str, url: str, body: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None) -> str:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._retry_wait, max=30),
            retry=retry_if_exception_type(RetryableFetchError),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._request_once(method, url, body, headers)
        raise AssertionError("unreachable: tenacity either returns or reraises")

    async def _request_once(self, method: str, url: str, body: Mapping[str, Any] | None,
                            headers: Mapping[str, str] | None) -> str:
        await self._spacing.wait_turn(urlsplit(url).hostname or "")
        target = route_via(url, self._fetch_via)
        try:
            async with self._session.request(method, target, json=body, headers=headers) as response:
                text = await response.text(errors="replace")
        except TimeoutError as error:
            raise RetryableFetchError(f"{method} {url}: timed out", "timeout") from error
        except aiohttp.ClientError as error:
            raise RetryableFetchError(f"{method} {url}: {error.__class__.__name__}: {error}",
                                      "connection error") from error
        if response.status >= 500:
            raise RetryableFetchError(f"{method} {url}: HTTP {response.status}", f"http {response.status}")
        if response.status >= 400:
            raise FetchError(f"{method} {url}: HTTP {response.status}", f"http {response.status}")
        return text


def new_session(timeout: float) -> aiohttp.ClientSession:
    """The aiohttp session behind a SiteClient: total timeout per request and our User-Agent."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
    )
