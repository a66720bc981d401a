"""The calendar pages over HTTP against a real database: the list of the next 4 weeks, filters, month and week
grids in the viewer's zone, languages, bad parameters, escaping, headers and the versioned static files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from selectolax.lexbor import LexborHTMLParser

from models.catalog import listed_sites
from models.contest import Contest
from tests.catalog import UNLISTED, fill_catalog
from web.app import make_web_app
from web.calendar import SITE_COLOURS, colour_slots, month_days, week_days

pytestmark = pytest.mark.db

XSS = "<script>alert(1)</script> Round"
MARCH_10_2230Z = datetime(2031, 3, 10, 22, 30, tzinfo=UTC)  # a Monday; already Tuesday in Tokyo
SUNDAY_2000Z = datetime(2031, 3, 16, 20, 0, tzinfo=UTC)  # the week's last day in UTC, the next week's first in Tokyo


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


async def add(title: str, start: datetime, hours: float = 2, site: str = "codeforces", **fields) -> Contest:
    duration = round(hours * 3600)
    return await Contest.create(site_id=site, key=title.replace(" ", "-"), title=title, start=start,
                                end=start + timedelta(seconds=duration), duration=duration,
                                url=fields.pop("url", f"https://example.org/{site}/{title.replace(' ', '-')}"),
                                **fields)


async def page(client: TestClient, path: str, **headers: str) -> LexborHTMLParser:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/html"
    return LexborHTMLParser(await response.text())


def titles(html: LexborHTMLParser, within: str = "#calendar") -> list[str]:
    return [node.text(strip=True) for node in html.css(f"{within} .contest .title")]


def days_of(html: LexborHTMLParser) -> dict[str, list[str]]:
    """Grid day (ISO date) -> the titles placed on it."""
    return {day.css_first("h3 time").attributes["datetime"]: [t.text(strip=True) for t in day.css(".title")]
            for day in html.css("#calendar .grid .day")}


def entries_of(html: LexborHTMLParser, title: str) -> dict[str, str]:
    """Grid day (ISO date) -> how the contest `title` is shown on it: "start" on its first day, "continued" after."""
    return {day.css_first("h3 time").attributes["datetime"]: "continued" if "continued" in entry.attributes["class"]
            else "start"
            for day in html.css("#calendar .grid .day") for entry in day.css(".contest")
            if entry.css_first(".title").text(strip=True) == title}


def link_query(html: LexborHTMLParser, selector: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(html.css_first(selector).attributes["href"]).query)


async def test_the_list_shows_the_next_four_weeks_with_running_contests_marked(client):
    now = datetime.now(UTC)
    await add("Running Round", now - timedelta(hours=1), hours=3)
    await add("Tomorrow Round", now + timedelta(days=1), site="atcoder")
    await add("Soon Round", now + timedelta(hours=2))
    await add("Far Round", now + timedelta(days=29))
    await add("Finished Round", now - timedelta(hours=5), hours=2)
    await add("Cancelled Round", now + timedelta(days=2), cancelled=True)

    html = await page(client, "/")
    assert titles(html) == ["Running Round", "Soon Round", "Tomorrow Round"]
    running = html.css("#calendar .contest.running")
    assert [node.css_first(".title").text(strip=True) for node in running] == ["Running Round"]
    assert "running now" in running[0].text()
    assert all("running now" not in node.text() for node in html.css("#calendar .contest:not(.running)"))
    first = html.css_first("#calendar .contest:not(.running) time.start")
    assert datetime.fromisoformat(first.attributes["datetime"]) == (now + timedelta(hours=2)).replace(microsecond=0)
    assert html.css_first("#calendar .contest").attributes["data-contest"] == "codeforces:Running-Round"


async def test_each_contest_links_to_its_site_google_calendar_and_its_ics(client):
    contest = await add("Linked Round", datetime.now(UTC) + timedelta(days=3), hours=2.5)
    item = (await page(client, "/")).css_first("#calendar .contest")
    links = [a.attributes["href"] for a in item.css("a")]
    assert links[0] == "https://example.org/codeforces/Linked-Round"
    google = urlsplit(links[1])
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    fields = parse_qs(google.query)
    start, end = contest.start.astimezone(UTC), contest.end.astimezone(UTC)
    assert fields["action"] == ["TEMPLATE"] and fields["text"] == ["Linked Round"]
    assert fields["dates"] == [f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
    assert fields["details"] == ["Codeforces\nhttps://example.org/codeforces/Linked-Round"]
    assert links[2] == f"/contest/{contest.id}.ics"
    single = await client.get(links[2])
    assert single.status == 200 and "SUMMARY:Linked Round" in await single.text()


async def test_a_contest_of_three_days_is_on_each_of_its_days_in_the_viewers_zone(client):
    start = datetime(2031, 3, 11, 9, 0, tzinfo=UTC)
    await add("Three Day Cup", start, hours=60)  # until Thursday 13 March, 21:00 UTC
    await add("Midnight Round", datetime(2031, 3, 12, 22, 0, tzinfo=UTC), hours=2)  # ends at midnight in UTC
    expected = {"2031-03-11": "start", "2031-03-12": "continued", "2031-03-13": "continued"}
    for view in ("month", "week"):
        html = await page(client, f"/?view={view}&date=2031-03-12")
        assert entries_of(html, "Three Day Cup") == expected, view  # not on the 10th, nor the day after (14th)
        assert entries_of(html, "Midnight Round") == {"2031-03-12": "start"}, view
        items = html.css('#calendar [data-contest="codeforces:Three-Day-Cup"]')
        assert {item.css_first(".title a").attributes["href"] for item in items} == {
            "https://example.org/codeforces/Three-Day-Cup"}  # the same link on every day
        assert [item.css_first(".continuation").text(strip=True) for item in items[1:]] == ["continued"] * 2
        assert "until Thu 13 Mar, 21:00" in items[1].text()
        assert [len(item.css("details.add")) for item in items] == [1, 0, 0]  # one menu per contest
    russian = await page(client, "/?view=week&date=2031-03-12&lang=ru")
    continued = russian.css('[data-contest="codeforces:Three-Day-Cup"] .when')[1]
    assert " ".join(continued.text().split()) == "продолжается до чт 13 мар., 21:00"
    client.session.cookie_jar.clear()
    tokyo = await page(client, "/?view=week&date=2031-03-12&tz=Asia/Tokyo")  # 18:00 on the 11th to 06:00 on the 14th
    assert entries_of(tokyo, "Three Day Cup") == {**expected, "2031-03-14": "continued"}
    assert entries_of(tokyo, "Midnight Round") == {"2031-03-13": "start"}


async def test_a_contest_of_half_a_year_is_clipped_to_the_days_shown(client):
    await add("Half Year Marathon", datetime(2031, 1, 5, 12, 0, tzinfo=UTC), hours=180 * 24)
    html = await page(client, "/?view=month&date=2031-03-12")
    days = [day.isoformat() for day in month_days(datetime(2031, 3, 12).date())]
    assert entries_of(html, "Half Year Marathon") == dict.fromkeys(days, "continued")
    assert len(html.css("#calendar details.add")) == 1  # its menu on the first day shown
    assert len(html.css("#calendar .contest")) == len(days)
    assert entries_of(await page(client, "/?view=month&date=2031-08-01"), "Half Year Marathon") == {}  # ended 4 July


async def test_a_marathon_started_last_week_is_in_this_weeks_view(client):
    now = datetime.now(UTC)
    await add("Long Marathon", now - timedelta(days=8), hours=20 * 24, site="atcoder")
    await add("Over Round", now - timedelta(days=8), hours=2)
    html = await page(client, "/?view=week")
    this_week = [day.isoformat() for day in week_days(now.date())]
    assert entries_of(html, "Long Marathon") == dict.fromkeys(this_week, "continued")
    assert entries_of(html, "Over Round") == {}
    assert "today" in html.css_first(f'#calendar .day:has(time[datetime="{now.date().isoformat()}"])').attributes[
        "class"]
    assert titles(await page(client, "/"), "#calendar") == ["Long Marathon"]  # the list: running now


async def test_each_site_has_its_own_colour_and_a_legend_in_every_view(client):
    start = datetime.now(UTC) + timedelta(days=1)
    await add("Codeforces Round 1", start)
    await add("AtCoder Beginner Contest 1", start + timedelta(hours=3), site="atcoder")
    await add("Codeforces Round 2", start + timedelta(hours=6))
    for path in ("/", "/?view=month", "/?view=week"):
        html = await page(client, path)
        colours = {node.css_first(".site").text(strip=True): colour_class(node)
                   for node in html.css("#calendar .contest")}
        assert set(colours) == {"Codeforces", "AtCoder"} and colours["Codeforces"] != colours["AtCoder"], path
        legend = {item.text(strip=True): colour_class(item) for item in html.css("#calendar .legend li")}
        assert legend == colours, path
    assert colour_class((await page(client, "/?site=atcoder")).css_first(".legend li")) == colours["AtCoder"]


def colour_class(node) -> str:
    [colour] = [name for name in node.attributes["class"].split() if name.startswith("site-c")]
    return colour


def test_sites_listed_together_never_share_a_colour_and_keep_theirs():
    slugs = [f"site{n}" for n in range(3 * SITE_COLOURS)]
    colours = colour_slots(slugs)
    for first in range(0, len(slugs), SITE_COLOURS):
        assert len({colours[slug] for slug in slugs[first:first + SITE_COLOURS]}) == SITE_COLOURS
    assert colour_slots(slugs) == colours and all(0 <= colour < SITE_COLOURS for colour in colours.values())


async def test_each_filter_narrows_the_list_and_is_kept_in_the_form_and_links(client):
    soon = datetime.now(UTC) + timedelta(days=1)
    await add("Codeforces Round 1000 (Div. 2)", soon, hours=2)
    await add("Educational Codeforces Round 170", soon + timedelta(hours=1), hours=2)
    await add("AtCoder Beginner Contest 400", soon + timedelta(hours=2), hours=1.67, site="atcoder")
    await add("Marathon Match", soon + timedelta(hours=3), hours=240, site="atcoder")
    assert len(titles(await page(client, "/"))) == 4

    html = await page(client, "/?site=atcoder")
    assert titles(html) == ["AtCoder Beginner Contest 400", "Marathon Match"]
    checked = [box.attributes["value"] for box in html.css("input[name=site]") if "checked" in box.attributes]
    assert checked == ["atcoder"]
    assert len(titles(await page(client, "/?site=atcoder&site=codeforces"))) == 4

    html = await page(client, "/?q=round")
    assert titles(html) == ["Codeforces Round 1000 (Div. 2)", "Educational Codeforces Round 170"]
    assert html.css_first("input[name=q]").attributes["value"] == "round"

    assert titles(await page(client, "/?max_hours=1.75")) == ["AtCoder Beginner Contest 400"]
    assert titles(await page(client, "/?min_hours=3")) == ["Marathon Match"]
    html = await page(client, "/?site=codeforces&q=educational&min_hours=1.5&max_hours=2")
    assert titles(html) == ["Educational Codeforces Round 170"]
    assert html.css_first("input[name=min_hours]").attributes["value"] == "1.5"
    month = link_query(html, '.views a[href*="view=month"]')
    assert month == {"view": ["month"], "site": ["codeforces"], "q": ["educational"], "min_hours": ["1.5"],
                     "max_hours": ["2"]}
    assert "site=codeforces" in html.css_first("footer a").attributes["href"]  # the iCal feed of these sites


async def test_sixty_sites_are_offered_in_groups_popular_first_then_a_to_z(client):
    await fill_catalog(60)
    await add("Toph Round", datetime.now(UTC) + timedelta(hours=3), site="toph")
    html = await page(client, "/?site=toph&site=codeforces&site=clist")
    groups = html.css("fieldset.sites fieldset.site-group")
    assert [group.css_first("legend").text(strip=True) for group in groups] == ["Popular sites", "All other sites, A–Z"]
    boxes = [[box.attributes["value"] for box in group.css("input[name=site]")] for group in groups]
    catalog = await listed_sites()
    assert boxes == [[s.slug for s in catalog if s.popular], [s.slug for s in catalog if not s.popular]]
    assert len(boxes[0] + boxes[1]) == 60 and UNLISTED not in boxes[1]
    names = [label.text(strip=True) for label in groups[1].css("label")]
    assert names == sorted(names, key=str.casefold)
    checked = [box.attributes["value"] for box in html.css("input[name=site]") if "checked" in box.attributes]
    assert checked == ["codeforces", "toph"]
    assert titles(html) == ["Toph Round"]  # the unlisted row is no filter at all, the listed ones are
    search = html.css_first("input[type=search][data-site-search]")
    assert "name" not in search.attributes  # not a filter of its own: never in the address
    assert "hidden" in search.parent.attributes  # shown by the script only
    assert html.css_first(f"label[for={search.attributes['id']}]").text(strip=True) == "Find a site"


async def test_month_and_week_place_contests_on_the_viewers_days(client):
    await add("Monday Night Round", MARCH_10_2230Z)
    await add("Sunday Round", SUNDAY_2000Z)
    await add("Cancelled Round", MARCH_10_2230Z, cancelled=True)

    utc = days_of(await page(client, "/?view=week&date=2031-03-12"))
    assert list(utc) == [f"2031-03-{day}" for day in range(10, 17)]
    assert utc["2031-03-10"] == ["Monday Night Round"] and utc["2031-03-16"] == ["Sunday Round"]

    tokyo = await page(client, "/?view=week&date=2031-03-12&tz=Asia/Tokyo")
    placed = days_of(tokyo)
    assert placed["2031-03-10"] == [] and placed["2031-03-11"] == ["Monday Night Round"]
    assert all("Sunday Round" not in day for day in placed.values())  # Monday the 17th in Tokyo: next week
    assert tokyo.css_first("#calendar time.start").text(strip=True) == "07:30"
    assert days_of(await page(client, "/?view=week&date=2031-03-17&tz=Asia/Tokyo"))["2031-03-17"] == ["Sunday Round"]
    assert tokyo.css_first("#calendar").attributes["data-zone"] == "Asia/Tokyo"
    assert link_query(tokyo, "a[rel=prev]") == {"view": ["week"], "date": ["2031-03-03"], "tz": ["Asia/Tokyo"]}
    assert link_query(tokyo, "a[rel=next]") == {"view": ["week"], "date": ["2031-03-17"], "tz": ["Asia/Tokyo"]}

    los_angeles = days_of(await page(client, "/?view=month&date=2031-03-01&tz=America/Los_Angeles"))
    assert list(los_angeles) == [day.isoformat() for day in month_days(MARCH_10_2230Z.date())]
    assert los_angeles["2031-03-10"] == ["Monday Night Round"] and los_angeles["2031-03-16"] == ["Sunday Round"]
    month = await page(client, "/?view=month&date=2031-03-20&tz=Asia/Tokyo")
    assert days_of(month)["2031-03-17"] == ["Sunday Round"]
    assert month.css_first("#view-title").text(strip=True) == "March 2031"
    assert "outside" in month.css_first("#calendar .day").attributes["class"]  # Monday 24 February
    assert link_query(month, "a[rel=next]")["date"] == ["2031-04-01"]


async def test_the_zone_cookie_applies_unless_the_address_names_one(client):
    await add("Monday Night Round", MARCH_10_2230Z)
    client.session.cookie_jar.update_cookies({"tz": "Asia/Tokyo"})
    html = await page(client, "/?view=week&date=2031-03-10")
    assert days_of(html)["2031-03-11"] == ["Monday Night Round"]
    assert html.css_first("#calendar").attributes["data-zone-chosen"] == "1"
    assert "tz" not in link_query(html, "a[rel=next]")  # the cookie's zone is not written into shared links
    html = await page(client, "/?view=week&date=2031-03-10&tz=utc")
    assert days_of(html)["2031-03-10"] == ["Monday Night Round"]


async def test_without_a_chosen_zone_times_are_utc_and_the_script_may_pick_one(client):
    html = await page(client, "/")
    section = html.css_first("#calendar")
    assert section.attributes["data-zone"] == "UTC" and section.attributes["data-zone-chosen"] == "0"
    assert html.css_first("input[name=tz]").attributes["value"] == "UTC"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "UTC+15", "<b>x</b>"])
async def test_an_unknown_zone_is_reported_and_utc_is_used(client, bad):
    await add("Monday Night Round", MARCH_10_2230Z)
    response = await client.get("/", params={"view": "week", "date": "2031-03-10", "tz": bad})
    assert response.status == 200
    html = LexborHTMLParser(await response.text())
    problem = html.css_first("[role=alert]").text()
    assert "Unknown time zone" in problem and "UTC" in problem
    field = html.css_first("input#tz")
    assert field.attributes["value"] == bad  # what was typed stays, to be corrected
    assert field.attributes["aria-invalid"] == "true"
    assert field.attributes["aria-describedby"].split() == ["tz-problem", "tz-hint"]
    assert "Unknown time zone" in html.css_first("#tz-problem").text()
    assert "open" in html.css_first("details.filters").attributes
    assert html.css_first("#calendar").attributes["data-zone"] == "UTC"
    assert days_of(html)["2031-03-10"] == ["Monday Night Round"]


async def test_unreadable_parameters_are_explained_and_ignored(client):
    await add("Soon Round", datetime.now(UTC) + timedelta(hours=3))
    html = await page(client, "/?view=year&date=tomorrow&min_hours=lots&max_hours=-1&site=nosuchsite")
    problems = [node.text() for node in html.css("[role=alert]")]
    assert len(problems) == 4 and any("hours" in text for text in problems) and any("2026-11-01" in p for p in problems)
    assert titles(html) == ["Soon Round"]  # the list, unfiltered
    for far in ("0001-01-01", "9999-12-31"):
        for view in ("month", "week"):
            html = await page(client, f"/?view={view}&date={far}&tz=America/New_York")
            assert "2026-11-01" in html.css_first("[role=alert]").text()


async def test_pages_speak_russian_by_choice_cookie_or_browser(client):
    """Needs the Russian catalog with the page texts (/work/tmp-i18n/pages.json merged)."""
    await add("Soon Round", datetime.now(UTC) + timedelta(hours=3))
    response = await client.get("/?lang=ru")
    html = LexborHTMLParser(await response.text())
    assert html.css_first("html").attributes["lang"] == "ru"
    assert response.cookies["lang"].value == "ru"
    assert html.css_first("h1").text() == "Календарь контестов"
    menu = html.css_first("#calendar .contest details.add")
    assert menu.css_first("summary").text().startswith("Добавить в календарь")
    assert [link.text().split(":")[0] for link in menu.css("a")] == ["Google Календарь", "файл .ics"]
    html = await page(client, "/?view=month&date=2031-03-01")  # the cookie is remembered
    assert html.css_first("#view-title").text(strip=True) == "Март 2031"
    client.session.cookie_jar.clear()
    html = await page(client, "/", **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert html.css_first("html").attributes["lang"] == "ru"
    html = await page(client, "/", **{"Accept-Language": "de, en;q=0.5"})
    assert html.css_first("html").attributes["lang"] == "en" and html.css_first("h1").text() == "Contest calendar"


async def test_a_title_with_a_script_is_shown_as_text(client):
    now = datetime.now(UTC)
    await add(XSS, now + timedelta(hours=3), url="javascript:alert(2)")
    await add('"><img src=x onerror=alert(3)>', now + timedelta(hours=4))
    await add("Long Round", now - timedelta(hours=1), hours=5)
    for path in ("/", "/?partial=1", "/?view=month", "/?view=week&lang=ru", '/?q="><svg onload=alert(4)>',
                 "/?tz=<script>alert(5)</script>"):
        response = await client.get(path)
        body = await response.text()
        assert "<script>alert" not in body and "<img src=x" not in body and "<svg" not in body, path
        html = LexborHTMLParser(body)
        scripts = html.css("script")
        assert all(script.attributes.get("src", "").startswith("/static/") for script in scripts), path
        assert all(not script.text().strip() for script in scripts)
        handlers = [(node.tag, name) for node in html.css("*") for name in node.attributes if name.startswith("on")]
        assert handlers == [], path
        assert not html.css("[style]") and not html.css("style"), path
        assert all(not a.attributes.get("href", "").startswith("javascript:") for a in html.css("a")), path
    listed = titles(await page(client, "/"))
    assert XSS in listed and '"><img src=x onerror=alert(3)>' in listed


async def test_pages_carry_security_headers_and_no_store_of_stale_copies(client):
    for path in ("/", "/?partial=1", "/?view=month"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Cookie" in response.headers["Vary"]


async def test_the_partial_view_is_just_the_calendar(client):
    await add("Soon Round", datetime.now(UTC) + timedelta(hours=3))
    body = await (await client.get("/?partial=1&tz=Asia/Tokyo")).text()
    assert body.lstrip().startswith('<section id="calendar"') and body.rstrip().endswith("</section>")
    assert "<html" not in body and "Soon Round" in body and 'data-zone="Asia/Tokyo"' in body


async def test_static_files_have_versioned_addresses_cached_for_a_year(client):
    html = await page(client, "/")
    addresses = [html.css_first("link[rel=stylesheet]").attributes["href"],
                 html.css_first("script").attributes["src"]]
    assert "defer" in html.css_first("script").attributes
    for address, kind in zip(addresses, ("text/css", "text/javascript"), strict=True):
        assert re.fullmatch(r"/static/calendar\.(css|js)\?v=[0-9a-f]{10}", address)
        response = await client.get(address, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200 and response.content_type == kind
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "gzip"
        again = await client.get(address, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status == 304
        stale = await client.get(address.split("?")[0] + "?v=0000000000")
        assert stale.status == 200 and stale.headers["Cache-Control"] == "no-cache"
    assert (await client.get("/static/nothing.js")).status == 404
    assert (await client.get("/static/..%2Fpages.py")).status == 404


async def test_the_page_is_small(client):
    now = datetime.now(UTC)
    for n in range(60):
        await add(f"Round {n}", now + timedelta(hours=5 * n + 1), site=("codeforces", "atcoder", "leetcode")[n % 3])
    response = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) < 14_000  # 60 contests fit in the first round trips
