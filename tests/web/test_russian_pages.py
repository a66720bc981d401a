"""The calendar's pages for a Russian browser read Russian: every view, with contests of a day and of several days,
lengths in Cyrillic units, and no English word (site names, zone names and a few proper nouns aside)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from selectolax.lexbor import LexborHTMLParser

from models.catalog import listed_sites
from models.contest import Contest
from web.app import make_web_app

pytestmark = pytest.mark.db

#: Latin words a Russian page may hold: names of things and of the zone
KEPT = {"google", "ics", "ical", "utc", "url", "contestbell", "json", "api", "round", "div", "a", "z", "europe",
        "moscow", "telegram", "github", "javascript", "english"}  # "english": the link to the English page
WORD = re.compile(r"[A-Za-z][A-Za-z_]*")


@pytest.fixture
async def client(db) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as client:
        yield client


async def contests_this_week() -> None:
    now = datetime.now(UTC)
    for key, start, hours in (("2100", now + timedelta(hours=3), 2.25), ("2101", now - timedelta(days=1), 72)):
        await Contest.create(site_id="codeforces", key=key, title=f"Codeforces Round {key} (Div. 2)", start=start,
                             end=start + timedelta(hours=hours), duration=round(hours * 3600),
                             url=f"https://codeforces.com/contest/{key}")


def visible_text(html: str) -> str:
    """What a reader sees: the body's text and the labels of controls, without the script and the styles."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style"):
        node.decompose()
    labels = [node.attributes.get(name) or "" for name in ("aria-label", "title", "placeholder", "alt")
              for node in tree.css(f"[{name}]")]
    return " ".join([tree.body.text(separator=" "), *labels])


@pytest.mark.parametrize("view", ["list", "month", "week"])
async def test_every_calendar_view_reads_russian(client, view):
    await contests_this_week()
    response = await client.get(f"/?view={view}&tz=Europe/Moscow", headers={"Accept-Language": "ru"})
    assert response.status == 200
    text = visible_text(await response.text())
    sites = {word.lower() for site in await listed_sites() for word in WORD.findall(site.name)}
    leaked = {word for word in WORD.findall(text) if word.lower() not in KEPT | sites}
    assert not leaked, leaked
    assert "Календарь контестов" in text
    if view == "list":
        assert "2ч 15м" in text and "3д" in text
