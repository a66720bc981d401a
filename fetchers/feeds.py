"""Operator-listed iCalendar feeds as sites: `CONTESTBELL_ICAL_SOURCES="slug|Display name|https://…/feed.ics,…"`.

Each feed is a site like the native ones (health, backoff, change detection, cancellation, ShrunkFetch): its
events are read by fetchers/ical.py, keyed by UID, recurring events expanded over the window around now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from fetchers.contest import Contest, SiteInfo
from fetchers.http import SiteClient
from fetchers.ical import default_window, feed_contests
from fetchers.registry import SiteModule

FEED_EVERY = timedelta(hours=1)
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class BadFeedList(ValueError):
    """CONTESTBELL_ICAL_SOURCES cannot be read; the message says which entry and why."""


def feed_sources(listing: str) -> list[SiteModule]:
    """The sites of a `slug|Display name|URL,…` listing (empty: none)."""
    sources = [feed_source(entry.strip()) for entry in listing.split(",") if entry.strip()]
    slugs = [source.slug for source in sources]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise BadFeedList(f"CONTESTBELL_ICAL_SOURCES names {', '.join(duplicates)} more than once")
    return sources


def feed_source(entry: str) -> SiteModule:
    parts = [part.strip() for part in entry.split("|")]
    if len(parts) != 3:
        raise BadFeedList(f"CONTESTBELL_ICAL_SOURCES entry {entry[:60]!r} is not slug|Display name|https://…")
    slug, name, url = parts
    if not SLUG.fullmatch(slug):
        raise BadFeedList(f"CONTESTBELL_ICAL_SOURCES: {slug[:50]!r} is not a slug (a-z, 0-9, _ and -, 1-40)")
    if not name or len(name) > 100 or not name.isprintable():
        raise BadFeedList(f"CONTESTBELL_ICAL_SOURCES: {slug}: the display name must be 1-100 printable characters")
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 300:
        raise BadFeedList(f"CONTESTBELL_ICAL_SOURCES: {slug}: {url[:60]!r} is not an http(s) address")
    home = f"{parsed.scheme}://{parsed.netloc}"
    info = SiteInfo(slug, name, home, every=FEED_EVERY, response="text")
    parse = partial(read_feed, slug, home)
    return SiteModule(info=info, parse=parse, fetch=partial(fetch_feed, url, parse))


def read_feed(slug: str, home: str, text: str) -> list[Contest]:
    """The feed's events around now (recurring ones expanded over fetchers.ical's window)."""
    return feed_contests(slug, text, window=default_window(datetime.now(UTC)), default_url=home)


async def fetch_feed(url: str, parse: partial[list[Contest]], http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(url))
