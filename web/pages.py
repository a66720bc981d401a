"""The calendar at `/`: upcoming contests as a list (the next 4 weeks, running ones first), a month or a
week (a contest on every day it runs there), filtered by site, keyword and duration, in the viewer's time zone and
language; each site in its colour, named in a legend.

Pages are rendered here (Jinja, autoescaped) and work without JavaScript; web/static/calendar.js adds the
browser's zone and live updates, re-fetching the same address with `partial=1` for just the calendar part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiogram.utils.i18n import I18n, gettext
from aiohttp import web
from babel.dates import format_date, format_datetime
from tortoise.expressions import Q

from fetchers.contest import iso_z
from models.catalog import ListedSite, listed_sites
from models.contest import Contest
from notify.formatting import span
from notify.i18n import language_name, languages, speaking
from notify.zones import COMMON_ZONES
from web.assets import ASSETS, add_asset_routes
from web.calendar import (
    ZONE_REFUSED,
    CalendarQuery,
    Placed,
    View,
    by_days_running,
    by_local_day,
    colour_of,
    colour_slots,
    google_calendar_link,
    grid_days,
    parse_query,
    period,
    query_pairs,
    shift,
    with_parameter,
)
from web.keys import I18N
from web.language import page_language, remember_language
from web.site_choices import site_groups

TEMPLATES = Path(__file__).resolve().parent / "templates"
ZONE_COOKIE = "tz"
#: a view never lists more than this many contests (a month of every site is a few hundred)
MAX_CONTESTS = 1000


@dataclass(frozen=True, slots=True)
class ShownContest:
    """A contest as the page shows it: times in the viewer's zone, links ready."""

    site: str
    site_name: str
    key: str
    title: str
    url: str | None  # None when the site gave something that is not a web address
    start: datetime  # in the viewer's zone
    end: datetime
    duration: int
    running: bool
    ics: str
    google: str
    colour: int  # the site's colour: the class site-c<colour> of web/static/calendar.css

    @property
    def iso_start(self) -> str:
        return iso_z(self.start.astimezone(UTC))

    @property
    def iso_end(self) -> str:
        return iso_z(self.end.astimezone(UTC))


Entry = Placed[ShownContest]


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    contests: list[Entry]
    outside: bool = False  # a day of the month before or after, padding the grid's first and last week
    today: bool = False


def web_address(url: str) -> str | None:
    """Only http(s) addresses become links: a site's payload never turns into a javascript: link."""
    return url if urlsplit(url).scheme in ("http", "https") else None


def shown(contest: Contest, site_name: str, colour: int, zone: tzinfo, now: datetime) -> ShownContest:
    start, end = contest.start.astimezone(zone), contest.end.astimezone(zone)
    return ShownContest(
        site=contest.site_id, site_name=site_name, key=contest.key, title=contest.title,
        url=web_address(contest.url), start=start, end=end, duration=contest.duration,
        running=contest.start <= now < contest.end, ics=f"/contest/{contest.id}.ics",
        google=google_calendar_link(contest.title, contest.start, contest.end, f"{site_name}\n{contest.url}"),
        colour=colour,
    )


async def contests_of(query: CalendarQuery, begin: datetime, end: datetime, now: datetime) -> list[Contest]:
    """The list: running or starting before `end`; a grid: running at some time within [begin, end) (a contest
    without a duration counts when it starts there)."""
    selection = Contest.filter(query.contest_filter().condition())
    if query.view is View.LIST:
        selection = selection.filter(start__lt=end, end__gt=now)
    else:
        selection = selection.filter(Q(end__gt=begin) | Q(start__gte=begin), start__lt=end)
    return await selection.order_by("start", "site_id", "key").limit(MAX_CONTESTS)


def list_sections(contests: list[ShownContest], zone: tzinfo) -> tuple[list[Entry], list[Day]]:
    """The list view: what is running now, then the upcoming contests by the day they start (each once)."""
    running = [Placed(contest) for contest in contests if contest.running]
    upcoming = [(contest.start, Placed(contest)) for contest in contests if not contest.running]
    return running, [Day(day, items) for day, items in by_local_day(upcoming, zone).items()]


def grid(query: CalendarQuery, day: date, today: date, contests: list[ShownContest]) -> list[Day]:
    """The month's or week's days, each with every contest running on it in the viewer's zone."""
    days = grid_days(query.view, day)
    placed = by_days_running([(contest.start, contest.end, contest) for contest in contests], query.zone, days)
    return [Day(d, placed.get(d, []), outside=query.view is View.MONTH and d.month != day.month, today=d == today)
            for d in days]


def legend(contests: list[ShownContest]) -> list[tuple[str, int]]:
    """The sites of the view's contests (name, colour), in the order they first appear."""
    return list(dict.fromkeys((contest.site_name, contest.colour) for contest in contests))


def view_title(query: CalendarQuery, day: date, language: str) -> str:
    if query.view is View.MONTH:
        title = format_date(day, "LLLL y", locale=language)
        return title[:1].upper() + title[1:]
    if query.view is View.WEEK:
        days = grid_days(View.WEEK, day)
        return f"{format_date(days[0], 'd MMM', locale=language)} – {format_date(days[-1], 'd MMM y', locale=language)}"
    return gettext("Upcoming contests: the next 4 weeks")


def formatters(language: str) -> dict[str, Any]:
    """What the templates call to show dates and times in the page's language."""
    return {
        "clock": lambda moment: format_datetime(moment, "HH:mm", locale=language),
        "day_label": lambda day: format_date(day, "EEE d MMM", locale=language),
        "full_time": lambda moment: format_datetime(moment, "EEE d MMM, HH:mm", locale=language),
        "span": span,
    }


async def calendar_page(request: web.Request) -> web.Response:
    """The whole page, or with `partial=1` only the calendar part (what the script swaps in on a change)."""
    i18n = request.app[I18N]
    language = page_language(i18n, request)
    catalog = await listed_sites()
    zone_cookie = request.cookies.get(ZONE_COOKIE)
    query = parse_query(request.query, unquote(zone_cookie) if zone_cookie else None,
                        [site.slug for site in catalog])
    partial = request.query.get("partial") == "1"
    context = await calendar_context(query, catalog, language)
    context["site_groups"] = site_groups(catalog)
    with speaking(i18n, language):
        context.update(view_sections(query, context["day"], context["today"], context["contests"], language))
        if not partial:
            context.update(page_frame(request, query, i18n))
        body = aiohttp_jinja2.render_string("calendar_part.html" if partial else "calendar.html", request, context)
    response = web.Response(text=body, content_type="text/html", headers={
        "Cache-Control": "no-cache", "Vary": "Accept-Encoding, Accept-Language, Cookie", "Content-Language": language,
    })
    remember_language(request, response, language)
    return response


async def calendar_context(query: CalendarQuery, catalog: list[ListedSite], language: str) -> dict[str, Any]:
    """The contests of the view, shown in the viewer's zone, and what the navigation links need; `catalog` is the
    listed sites in listing order."""
    now = datetime.now(UTC)
    today = now.astimezone(query.zone).date()
    day = query.day or today
    begin, end = period(query.view, day, query.zone, now)
    sites = {site.slug: site.name for site in catalog}
    colours = colour_slots(sites)
    contests = [shown(contest, sites.get(contest.site_id, contest.site_id),
                      colours.get(contest.site_id, colour_of(contest.site_id)), query.zone, now)
                for contest in await contests_of(query, begin, end, now)]
    return {
        "query": query, "View": View, "day": day, "today": today, "language": language,
        "contests": contests, "legend": legend(contests),
        "zone_name": query.zone_name or "UTC", "zone_chosen": query.zone_name is not None,
        "previous": shift(query.view, day, -1), "next": shift(query.view, day, 1), **formatters(language),
    }


def view_sections(query: CalendarQuery, day: date, today: date, contests: list[ShownContest],
                  language: str) -> dict[str, Any]:
    """The view's title and its days: running and upcoming days for the list, the grid's days otherwise."""
    sections: dict[str, Any] = {"title": view_title(query, day, language)}
    if query.view is View.LIST:
        sections["running"], sections["days"] = list_sections(contests, query.zone)
    else:
        sections["days"] = grid(query, day, today, contests)
    return sections


def page_frame(request: web.Request, query: CalendarQuery, i18n: I18n) -> dict[str, Any]:
    """What only the whole page needs: the language switcher, the zones offered in the form, the feed link,
    what in the address was ignored."""
    pairs, sites = query_pairs(request.query), query.sites
    return {
        "languages": [(code, language_name(code), with_parameter(pairs, "lang", code)) for code in languages(i18n)],
        "common_zones": COMMON_ZONES,
        "problems": [gettext(problem) for problem in query.problems],
        "zone_problem": gettext(ZONE_REFUSED) if query.zone_refused else "",
        "feed_link": "/calendar.ics" + (f"?{urlencode([('site', site) for site in sites])}" if sites else ""),
    }


def make_environment(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["_"] = gettext  # the translation of the I18n context in force while rendering
    env.globals["static_url"] = lambda name: app[ASSETS].url(name)
    return env


def add_page_routes(app: web.Application) -> None:
    add_asset_routes(app)
    make_environment(app)
    app.router.add_get("/", calendar_page)
