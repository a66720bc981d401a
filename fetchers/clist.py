"""clist.by upstream: the long tail of contest sites, read from clist's API v4 with an operator's API key.

- One source, many sites. Every clist resource (`kaggle.com`, `toph.co`, `hsin.hr/coci`) becomes a site of its
  own. Its slug is made from the resource alone, so it never changes between fetches: a host without
  sub-domain gives its main label (`kaggle.com` -> `kaggle`, `luogu.com.cn` -> `luogu`); sub-domains and paths are
  kept, joined by `-` (`open.kattis.com` -> `open-kattis`, `hsin.hr/coci` -> `hsin-coci`), so two resources
  never share a slug. Well-known resources get their usual name ("Kaggle", "Universal Cup"); others are shown
  by their main label capitalised, or the resource itself when it has a sub-domain or path.
- Native wins. A resource that one of our own site modules fetches (its home page's host, or its `resource`)
  maps to that site's slug: `contestbell parse clist` shows the mapping, and ingest (fetchers/pipeline.py) keeps
  only the sites read through clist, so a contest never appears twice. A derived slug that collides with a site
  of ours gets a `clist-` prefix.
- Keys are clist's contest ids. Times without an offset are UTC. API v1 gives `resource` as an object with a
  `name`, v2 and v4 as a string: the contest fields are otherwise the same, and `parse()` reads all three.
- "Upcoming" on clist means "not yet ended", which includes year-long practice rounds ("HOT • Practice",
  6 years); contests longer than MAX_DURATION are left out: nobody sets a reminder for those.
- A malformed row is skipped and counted (one line in the log): one resource's odd data never hides the
  others'. An answer without `objects` is a ParseError.
- Paging follows `meta.next` (only while it stays on clist's contest API), at most MAX_PAGES pages, one request
  per 6 s (clist allows 10 a minute). The key goes in the Authorization header, never in a URL.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from fetchers.contest import Contest, ParseError, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("clist", "clist.by", "https://clist.by", every=timedelta(minutes=30), request_gap=6.0,
                listed=False)
#: not a site of its own: registry.py offers it only when the operator gives clist credentials
UPSTREAM = True
API = "https://clist.by/api/v4/contest/"
PAGE_SIZE = 100
MAX_PAGES = 20
MAX_DURATION = timedelta(days=180)
#: names people know resources by, where the host alone would not say it
KNOWN_NAMES = {
    "kaggle.com": "Kaggle", "toph.co": "Toph", "open.kattis.com": "Kattis", "ucup.ac": "Universal Cup",
    "challenge.ucup.ac": "Universal Cup Challenge", "hsin.hr/coci": "COCI", "facebook.com/hackercup":
    "Meta Hacker Cup", "projecteuler.net": "Project Euler", "spoj.com": "SPOJ", "codingame.com": "CodinGame",
    "cups.online": "Cups Online", "dl.gsu.by": "DL GSU", "naukri.com/code360": "Code360",
    "coderun.yandex.ru": "Yandex CodeRun", "contest.yandex.ru/cyf": "Yandex Cup", "tlx.toki.id": "TLX TOKI",
    "basecamp.eolymp.com": "Eolymp Basecamp", "lightoj.com": "LightOJ", "uoj.ac": "UOJ",
    "codingcompetitions.withgoogle.com": "Google Coding Competitions",
}
#: second-level labels under a country code that are part of the suffix (`luogu.com.cn`)
SUFFIX_LABELS = frozenset({"ac", "co", "com", "edu", "gov", "net", "org"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    api_key: str

    def header(self) -> dict[str, str]:
        return {"Authorization": f"ApiKey {self.username}:{self.api_key}"}


def first_page() -> str:
    query = {"upcoming": "true", "order_by": "start", "limit": PAGE_SIZE, "format": "json"}
    return f"{API}?{urlencode(query)}"


def next_page(payload: Any) -> str | None:
    """The next page's address from `meta.next`, only while it stays on clist's contest API."""
    following = payload.get("meta", {}).get("next") if isinstance(payload.get("meta"), dict) else None
    if not following:
        return None
    expect(isinstance(following, str), "clist: meta.next is not a string")
    parts = urlsplit(following)
    expect(parts.scheme in ("", "https") and parts.netloc in ("", "clist.by") and parts.path == urlsplit(API).path,
           f"clist: meta.next leaves the contest API: {following[:80]!r}")
    return f"{API}?{parts.query}"


async def fetch_pages(http: SiteClient, credentials: Credentials) -> list[Contest]:
    contests: list[Contest] = []
    url: str | None = first_page()
    for _page in range(MAX_PAGES):
        if url is None:
            break
        payload = await http.get_json(url, headers=credentials.header())
        contests.extend(parse(payload))
        url = next_page(payload)
    return contests


def parse(payload: Any) -> list[Contest]:
    """Every contest of one answer, with the site it maps to (native sites included)."""
    expect(isinstance(payload, dict), f"clist: expected a JSON object, got {type(payload).__name__}")
    rows = payload.get("objects")
    expect(isinstance(rows, list), "clist: the answer has no `objects` list")
    contests: list[Contest] = []
    skipped = 0
    for row in rows:
        try:
            contest = contest_from_row(row)
        except ParseError as error:
            skipped += 1
            log.debug("clist row skipped: %s", error)
            continue
        if contest is not None:
            contests.append(contest)
    if skipped:
        log.info("clist: %d of %d rows could not be read and were skipped", skipped, len(rows))
    return contests


def contest_from_row(row: Any) -> Contest | None:
    """The contest of one row, or None for a practice round that lasts longer than MAX_DURATION."""
    expect(isinstance(row, dict), f"clist: contest row {row!r:.80}")
    key = row.get("id")
    expect(isinstance(key, int) and not isinstance(key, bool), f"clist: row without an integer id {row!r:.80}")
    with reading(f"clist: contest {key}"):
        resource = resource_of(row)
        start, end = utc_time(row["start"]), utc_time(row["end"])
        if end - start > MAX_DURATION:
            return None
        href = row.get("href")
        url = href if isinstance(href, str) and href.startswith(("https://", "http://")) else f"https://{resource}"
        return Contest(site_of_resource(resource).slug, key=str(key), title=" ".join(str(row["event"]).split()),
                       url=url, start=start, duration=int((end - start).total_seconds()),
                       details={"resource": resource})


def resource_of(row: dict[str, Any]) -> str:
    """`resource` as v2/v4 give it (a string) or as v1 does (an object with a `name`)."""
    resource = row.get("resource")
    if isinstance(resource, dict):
        resource = resource.get("name")
    expect(isinstance(resource, str) and 0 < len(resource) <= 100 and resource.isprintable(),
           f"resource {resource!r:.60}")
    return resource.strip().lower().removeprefix("www.")


def utc_time(value: Any) -> datetime:
    """clist's times: ISO 8601, UTC when no offset is given."""
    expect(isinstance(value, str), f"time {value!r:.40}")
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else as_utc(moment)


@cache
def native_resources() -> dict[str, str]:
    """clist resource -> the slug of our own site module that fetches it."""
    from fetchers.registry import native_sites  # the registry finds this module too: imported when first needed

    return {site.info.upstream_resource(): slug for slug, site in native_sites().items()}


def site_of_resource(resource: str) -> SiteInfo:
    """The site a clist resource maps to: ours when we fetch it natively, else a site read through clist."""
    native = native_resources().get(resource)
    if native is not None:
        from fetchers.registry import native_sites

        return native_sites()[native].info
    slug = derived_slug(resource)
    if slug in native_resources().values():
        slug = f"clist-{slug}"[:40]
    return SiteInfo(slug, display_name(resource), f"https://{resource}", every=SITE.every, source=SITE.slug)


def derived_slug(resource: str) -> str:
    """A slug from the resource alone: the main label for a bare domain, else every label and path part."""
    host, _, path = resource.partition("/")
    labels = host.split(".")
    main = labels[:-2] if len(labels) > 2 and labels[-2] in SUFFIX_LABELS and len(labels[-1]) == 2 else labels[:-1]
    parts = [*(main or labels), *filter(None, path.split("/"))]
    slug = _NOT_SLUG.sub("-", "-".join(parts).lower()).strip("-")[:40].strip("-")
    expect(bool(slug), f"resource {resource!r} gives no slug")
    return slug


def display_name(resource: str) -> str:
    if resource in KNOWN_NAMES:
        return KNOWN_NAMES[resource]
    slug = derived_slug(resource)
    return slug.capitalize() if "-" not in slug else resource
