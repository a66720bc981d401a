"""iCal feeds that calendar apps subscribe to, and single contests to download.

- `/calendar.ics`: every contest not yet over and not cancelled; `?site=a&site=b` for some sites only.
- `/calendar/<token>.ics`: the personal feed of the account holding that token, chosen by the account's filters
  exactly as the bot chooses (`ContestFilter.of`). The token is the only proof, so the answer is private and
  sends no referrer; an unknown token is a 404 like any missing page.
- `/contest/<id>.ics`: one contest as an attachment, linked from the calendar page.

An event's DTSTAMP and SEQUENCE come from when ingest last noticed its contest change (notify/ical.py), so a feed
is the same bytes, with the same ETag, until something in it changes, and a moved contest keeps its UID.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from tortoise.expressions import Q
from tortoise.functions import Max
from tortoise.queryset import QuerySet, ValuesListQuery

from models.account import Account
from models.catalog import listed_slugs
from models.contest import Contest, Site
from models.selection import ContestFilter
from notify.i18n import speaking
from notify.ical import Revised, event_file, feed_calendar
from notify.messages import ContestInfo
from web.keys import I18N
from web.openapi import API_PREFIX
from web.responses import etagged

PUBLIC_PATH = "/calendar.ics"
PERSONAL_PATH = "/calendar/{token}.ics"
CONTEST_PATH = r"/contest/{id:\d{1,10}}.ics"
CALENDAR_TYPE = "text/calendar"
#: the largest id the column holds: a longer number is unknown without asking the database
MAX_ID = 2**31 - 1
PUBLIC_CACHE = "public, max-age=300"
PERSONAL_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def add_feed_routes(app: web.Application) -> None:
    app.router.add_get(PUBLIC_PATH, public_feed)
    app.router.add_get(PERSONAL_PATH, personal_feed)
    app.router.add_get(CONTEST_PATH, contest_file)


# reading contests


async def site_names() -> dict[str, str]:
    """Every known site's display name by slug."""
    return dict(await Site.all().values_list("slug", "name"))


#: the columns a feed reads (model instances would cost twice the time of the query for a feed of 5,000)
_COLUMNS = ("id", "site_id", "key", "title", "url", "start", "duration", "cancelled", "updated_at", "changed")


def with_last_change(contests: QuerySet[Contest]) -> ValuesListQuery:
    """`_COLUMNS` of the contests, `changed` being when ingest last recorded a change to each (or None)."""
    return contests.annotate(changed=Max("changes__noticed_at")).group_by("id").values_list(*_COLUMNS)


def stored_utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):  # SQLite hands an aggregate of datetimes back as text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def revised(row: tuple, names: dict[str, str]) -> Revised:
    """A contest with the moment it last changed: the later of its last write (`updated_at`, the wall clock) and
    the last change ingest recorded for it (on ingest's own clock, which a replayed fetch sets)."""
    contest_id, site, key, title, url, start, duration, cancelled, updated_at, changed = row
    info = ContestInfo(contest_id, site, key, title, url, start, duration, names.get(site, site))
    last = max(updated_at, stored_utc(changed)) if changed is not None else updated_at
    return Revised(info, last, cancelled)


async def feed_entries(condition: Q, now: datetime) -> list[Revised]:
    """Contests matching `condition` (which excludes cancelled ones) that are not over at `now`, soonest first."""
    rows = await with_last_change(Contest.filter(condition, end__gt=now).order_by("start", "site_id", "key"))
    names = await site_names()
    return [revised(row, names) for row in rows]


# /calendar.ics


def unknown_sites(asked: Sequence[str], listed: Collection[str]) -> web.Response | None:
    """A plain-text 400 naming the first site that is not listed (and where the sites are), or None."""
    for slug in asked:
        if slug not in listed:
            return web.Response(status=400, content_type="text/plain",
                                text=f"unknown site {slug[:100]!r} in ?site=; {API_PREFIX}/sites lists the sites "
                                     f"(?q= searches them)\n")
    return None


async def public_feed(request: web.Request) -> web.Response:
    asked = sorted(set(request.query.getall("site", [])))
    known = await site_names()
    refusal = unknown_sites(asked, await listed_slugs())
    if refusal is not None:
        return refusal
    selection = ContestFilter(sites=tuple(asked) if asked else None)
    entries = await feed_entries(selection.condition(), datetime.now(UTC))
    if asked:
        name = "contestbell: " + ", ".join(known[slug] for slug in asked)
        uid = f"feed-{'+'.join(asked)}@contestbell"
    else:
        name, uid = "contestbell", "feed-all@contestbell"
    body = feed_calendar(entries, uid=uid, name=name, description="Upcoming programming contests (contestbell)")
    return etagged(request, body, CALENDAR_TYPE, cache_control=PUBLIC_CACHE)


# /calendar/<token>.ics


async def personal_feed(request: web.Request) -> web.Response:
    account = await Account.by_calendar_token(request.match_info["token"])
    if account is None:
        raise web.HTTPNotFound(text="no such calendar feed (the link may have been reset)\n", headers=PERSONAL_HEADERS)
    entries = await feed_entries(ContestFilter.of(account).condition(), datetime.now(UTC))
    with speaking(request.app[I18N], account.language):
        name = _("My contests (contestbell)")
        description = _("Contests that match your contestbell settings")
    body = feed_calendar(entries, uid=f"feed-account-{account.id}@contestbell", name=name, description=description)
    return etagged(request, body, CALENDAR_TYPE, cache_control="private, no-cache", headers=PERSONAL_HEADERS)


# /contest/<id>.ics


def download_name(contest: ContestInfo) -> str:
    """A file name any system accepts: "codeforces-2100.ics"."""
    stem = _UNSAFE_IN_FILENAME.sub("-", f"{contest.site}-{contest.key}")[:80].strip("-.")
    return f"{stem or f'contest-{contest.id}'}.ics"


async def contest_file(request: web.Request) -> web.Response:
    contest_id = int(request.match_info["id"])
    rows = [] if contest_id > MAX_ID else await with_last_change(Contest.filter(id=contest_id))
    if not rows:
        raise web.HTTPNotFound(text="no such contest\n")
    entry = revised(rows[0], await site_names())
    disposition = f'attachment; filename="{download_name(entry.contest)}"'
    return etagged(request, event_file(entry), CALENDAR_TYPE, headers={"Content-Disposition": disposition})
