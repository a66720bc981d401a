"""The JSON API under /api/v1/: contests (filters and keyset cursor paging), the listed sites (models/catalog.py:
popular first, then A–Z; `?q=` searches slugs and names) with their fetch health, and the OpenAPI document that
describes both (web/openapi.py).

Every GET is open to any origin (CORS) and carries an ETag (If-None-Match answers 304). A bad parameter is a
400 `{"error": {"parameter": ..., "message": ...}}`; unknown parameters are ignored.

Answers are kept for a moment in a small in-process cache (`AnswerCache`), so a busy endpoint does not ask the
database on every request: an answer is at most `CACHE_TTL` old, and any contest change on the event bus drops
every kept answer at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from aiohttp import hdrs, web
from multidict import MultiMapping
from tortoise.expressions import Q
from yarl import URL

from fetchers.changes import Event
from fetchers.contest import iso_z
from models.catalog import ListedSite, listed_sites
from models.contest import Contest, Site
from models.selection import ContestFilter
from notify.preferences import is_readable_text
from notify.rules import similar_sites
from web.changes import listen
from web.health import site_health
from web.openapi import API_PREFIX, DEFAULT_LIMIT, DOCUMENT, MAX_LIMIT, MAX_QUERY_LENGTH, SPACES, UPCOMING_VALUES
from web.responses import etag_of, etagged, json_error

log = logging.getLogger("contestbell.web.api")

#: how old a kept answer may be: `upcoming` depends on the clock, and fetch health changes without an event
CACHE_TTL = 1.0
#: how many answers are kept (the least recently used goes first); a page is at most ~150 KB
CACHE_ENTRIES = 128
JSON = "application/json"
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}
PREFLIGHT_MAX_AGE = "86400"
CONTEST_FIELDS = ("id", "site_id", "key", "title", "url", "start", "end", "duration", "kind")


class BadParameter(Exception):
    """A query parameter the API cannot use; answered with a 400 that names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter, self.message = parameter, message


# -- reading the query ---------------------------------------------------------------------------------------


class Position(NamedTuple):
    """Where a page ended, in the listing order (start, site, key): the cursor's content."""

    start: datetime
    site: str
    key: str


@dataclass(frozen=True, slots=True)
class ContestQuery:
    """The contests request in canonical form: equal queries are one cache entry."""

    sites: tuple[str, ...] | None
    start_from: datetime | None
    start_to: datetime | None
    text: str | None
    upcoming: bool
    limit: int
    after: Position | None


def single(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise BadParameter(name, f"`{name}` was given {len(values)} times; give it at most once")
    return values[0] if values else None


def parse_moment(name: str, text: str) -> datetime:
    """ISO 8601 with a zone (Z or an offset), in UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"`{name}` is not an ISO 8601 date and time such as 2026-11-23T10:00:00Z") from None
    if moment.tzinfo is None:
        raise BadParameter(name, f"`{name}` has no time zone: end it with Z (UTC) or an offset such as +03:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadParameter(name, f"`{name}` is out of range") from None


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter("limit", f"`limit` must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_text(text: str | None) -> str | None:
    if text is None:
        return None
    if not is_readable_text(text):  # before stripping: Python counts some control characters as spaces
        raise BadParameter("q", "`q` must not contain control characters")
    text = text.strip(SPACES)
    if not 1 <= len(text) <= MAX_QUERY_LENGTH:
        raise BadParameter("q", f"`q` must be 1 to {MAX_QUERY_LENGTH} characters (spaces around it do not count)")
    return text


def parse_upcoming(text: str | None) -> bool:
    if text is None:
        return False
    if text not in UPCOMING_VALUES:
        raise BadParameter("upcoming", "`upcoming` must be 1, true, 0 or false")
    return UPCOMING_VALUES[text]


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.start.isoformat(), position.site, position.key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def decode_cursor(text: str | None) -> Position | None:
    if text is None:
        return None
    try:
        start, site, key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        moment = datetime.fromisoformat(start)
        if moment.tzinfo is None or not isinstance(site, str) or not isinstance(key, str) \
                or not is_readable_text(site + key):
            raise ValueError("not a position")
        return Position(moment.astimezone(UTC), site, key)
    except (ValueError, TypeError, OverflowError, binascii.Error):  # JSON and Unicode errors are ValueErrors
        raise BadParameter("cursor", "`cursor` is not a `next_cursor` this API gave; start without it") from None


def contest_query(query: MultiMapping[str]) -> ContestQuery:
    """The request's parameters, checked (except whether the sites exist: that needs the database)."""
    sites = query.getall("site", [])
    start_from = parse_moment("from", text) if (text := single(query, "from")) is not None else None
    start_to = parse_moment("to", text) if (text := single(query, "to")) is not None else None
    if start_from is not None and start_to is not None and start_to <= start_from:
        raise BadParameter("to", "`to` must be later than `from`")
    return ContestQuery(
        sites=tuple(sorted(set(sites))) if sites else None, start_from=start_from, start_to=start_to,
        text=parse_text(single(query, "q")), upcoming=parse_upcoming(single(query, "upcoming")),
        limit=parse_limit(single(query, "limit")), after=decode_cursor(single(query, "cursor")),
    )


@lru_cache(maxsize=CACHE_ENTRIES)
def parsed_query(raw_query_string: str) -> ContestQuery:
    """`contest_query` of a raw (still %-encoded) query string. Parsing is pure, so the last few are remembered
    and a busy URL skips it (a BadParameter is not remembered: it is raised again)."""
    return contest_query(URL.build(query_string=raw_query_string, encoded=True).query)


# -- answering from the database -----------------------------------------------------------------------------


def after(position: Position) -> Q:
    """Keyset paging: rows strictly after `position` in the order (start, site, key)."""
    return (Q(start__gt=position.start) | Q(start=position.start, site_id__gt=position.site)
            | Q(start=position.start, site_id=position.site, key__gt=position.key))


def contest_condition(request: ContestQuery, now: datetime) -> Q:
    condition = ContestFilter(sites=request.sites, include=(request.text,) if request.text else ()).condition()
    if request.start_from is not None:
        condition &= Q(start__gte=request.start_from)
    if request.start_to is not None:
        condition &= Q(start__lt=request.start_to)
    if request.upcoming:
        condition &= Q(end__gt=now)
    if request.after is not None:
        condition &= after(request.after)
    return condition


def contest_json(row: dict[str, Any], site_names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row["id"], "site": row["site_id"], "site_name": site_names[row["site_id"]], "key": row["key"],
        "title": row["title"], "url": row["url"], "start": iso_z(row["start"]), "end": iso_z(row["end"]),
        "duration": row["duration"], "kind": row["kind"],
    }


def unknown_sites_message(unknown: list[str], listed: set[str]) -> str:
    """The 400 for sites that are not listed: which ones (the first few, shortened), what looks close, and where
    the sites are (dozens of them: the message does not list them all)."""
    names = ", ".join(name[:40] for name in unknown[:5]) + (", …" if len(unknown) > 5 else "")
    similar = similar_sites(unknown, listed)
    maybe = f" (did you mean {', '.join(similar)}?)" if similar else ""
    return f"unknown site {names}{maybe}; {API_PREFIX}/sites lists the sites, ?q= searches them"


async def contest_page(request: ContestQuery) -> dict[str, Any]:
    rows = await Site.all().values_list("slug", "name", "listed")
    site_names = {slug: name for slug, name, _listed in rows}
    listed = {slug for slug, _name, is_listed in rows if is_listed}
    unknown = sorted(set(request.sites or ()) - listed)
    if unknown:
        raise BadParameter("site", unknown_sites_message(unknown, listed))
    rows = await (Contest.filter(contest_condition(request, datetime.now(UTC)))
                  .order_by("start", "site_id", "key").limit(request.limit + 1).values(*CONTEST_FIELDS))
    page, more = rows[:request.limit], len(rows) > request.limit
    last = page[-1] if page else None
    return {
        "contests": [contest_json(row, site_names) for row in page],
        "next_cursor": encode_cursor(Position(last["start"], last["site_id"], last["key"])) if more and last else None,
    }


def matches(site: ListedSite, search: str | None) -> bool:
    """`search` (case-insensitive) is part of the site's slug or name; no search matches every site."""
    if search is None:
        return True
    wanted = search.casefold()
    return wanted in site.slug or wanted in site.name.casefold()


def site_json(site: ListedSite, row: Site, now: datetime) -> dict[str, Any]:
    return {"slug": site.slug, "name": site.name, "url": site.url, "popular": site.popular, "source": site.source,
            "fetch_interval": row.every_seconds,
            "health": {name: value for name, value in site_health(row, now).items() if name != "site"}}


async def site_list(search: str | None = None) -> dict[str, Any]:
    """Every listed site matching `search`, in the catalog's order (popular first, then A–Z), with its health."""
    catalog = [site for site in await listed_sites() if matches(site, search)]
    rows = {row.slug: row for row in await Site.filter(slug__in=[site.slug for site in catalog])}
    now = datetime.now(UTC)
    return {"sites": [site_json(site, rows[site.slug], now) for site in catalog if site.slug in rows]}


# -- the cache -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """A 200 body as sent, with its ETag computed once."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, payload: Any) -> Answer:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(body, etag_of(body))


class AnswerCache:
    """Answers by canonical request, each kept at most `ttl` seconds, at most `entries` of them.

    Staleness bound: an answer is served at most `ttl` seconds after it was read from the database; a change
    event on the bus (`clear`) drops everything, so after an ingest the next request reads the database. An
    answer read while a change arrived is not kept (generation check), and concurrent misses for one request
    share one database read (so an expiry under load costs one query, not one per connection).
    """

    def __init__(self, ttl: float = CACHE_TTL, entries: int = CACHE_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.entries, self.clock = ttl, entries, clock
        self.kept: OrderedDict[Hashable, tuple[float, Answer]] = OrderedDict()
        self.reading: dict[Hashable, asyncio.Future[Answer]] = {}
        self.generation = 0

    def clear(self) -> None:
        self.generation += 1
        self.kept.clear()
        self.reading.clear()  # reads under way finish for their own waiters, but nobody new joins them

    async def changed(self, events: list[Event]) -> None:
        self.clear()

    def fresh(self, key: Hashable) -> Answer | None:
        kept = self.kept.get(key)
        if kept is None:
            return None
        if self.clock() >= kept[0]:
            del self.kept[key]
            return None
        self.kept.move_to_end(key)
        return kept[1]

    async def get(self, key: Hashable, read: Callable[[], Awaitable[Answer]]) -> Answer:
        answer = self.fresh(key)
        if answer is not None:
            return answer
        reading = self.reading.get(key)
        if reading is None:
            reading = self.reading[key] = asyncio.ensure_future(self.read(key, read))
        return await asyncio.shield(reading)  # one client going away does not cancel the others' read

    async def read(self, key: Hashable, read: Callable[[], Awaitable[Answer]]) -> Answer:
        generation, me = self.generation, asyncio.current_task()
        try:
            answer = await read()
        finally:
            if self.reading.get(key) is me:
                del self.reading[key]
        if generation == self.generation:
            self.kept[key] = (self.clock() + self.ttl, answer)
            while len(self.kept) > self.entries:
                self.kept.popitem(last=False)
        return answer


CACHE = web.AppKey("api_cache", AnswerCache)


# -- handlers ------------------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def open_to_any_origin(handler: Handler) -> Handler:
    """CORS for a public, read-only API: any origin may read the answer (errors too) and its ETag."""

    async def with_cors(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        response.headers.update(CORS_HEADERS)
        return response

    return with_cors


async def preflight(request: web.Request) -> web.Response:
    """The browser's OPTIONS before a cross-origin GET with custom headers (If-None-Match, say)."""
    headers = {**CORS_HEADERS, "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
               "Access-Control-Max-Age": PREFLIGHT_MAX_AGE}
    if asked := request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS):
        headers["Access-Control-Allow-Headers"] = asked  # public data, no credentials: any header may come
    return web.Response(status=204, headers=headers)


def answered(request: web.Request, answer: Answer) -> web.Response:
    return etagged(request, answer.body, JSON, etag=answer.etag)


@open_to_any_origin
async def contests(request: web.Request) -> web.Response:
    try:
        query = parsed_query(request.rel_url.raw_query_string)
        answer = await request.app[CACHE].get(query, lambda: read_contest_page(query))
    except BadParameter as error:
        return json_error(400, error.parameter, error.message)
    return answered(request, answer)


async def read_contest_page(query: ContestQuery) -> Answer:
    return Answer.of(await contest_page(query))


async def read_site_list(search: str | None) -> Answer:
    return Answer.of(await site_list(search))


@open_to_any_origin
async def sites(request: web.Request) -> web.Response:
    try:
        search = parse_text(single(request.query, "q"))
    except BadParameter as error:
        return json_error(400, error.parameter, error.message)
    return answered(request, await request.app[CACHE].get(("sites", search), lambda: read_site_list(search)))


OPENAPI_ANSWER = Answer.of(DOCUMENT)


@open_to_any_origin
async def openapi_document(request: web.Request) -> web.Response:
    return answered(request, OPENAPI_ANSWER)


def add_api_routes(app: web.Application) -> None:
    app[CACHE] = AnswerCache()
    listen(app, app[CACHE])
    for path, handler in (("/contests", contests), ("/sites", sites), ("/openapi.json", openapi_document)):
        app.router.add_get(API_PREFIX + path, handler)
        app.router.add_route(hdrs.METH_OPTIONS, API_PREFIX + path, preflight)
