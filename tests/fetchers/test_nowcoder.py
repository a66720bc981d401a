"""NowCoder: the data-json attributes of the real vip-index page, cross-checked with the visible cards."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from fetchers import nowcoder
from fetchers.contest import Contest, ParseError
from tests.captures import by_key, capture_text

PAGE = "nowcoder/contest_vip_index_2026-06.html"
BEIJING = timezone(timedelta(hours=8))
SHOWN_TIME = re.compile(r"比赛时间：\s*(\d{4}-\d\d-\d\d \d\d:\d\d)\s*至\s*(\d{4}-\d\d-\d\d \d\d:\d\d)")


@pytest.fixture(scope="module")
def contests() -> list[Contest]:
    return nowcoder.parse(capture_text(PAGE))


def test_upcoming_and_finished_contests_are_read(contests):
    assert len(contests) == 15
    assert len(by_key(contests)) == 15
    assert [c.key for c in contests[:5]] == ["136706", "136707", "136719", "136720", "133876"]  # 等你来战
    assert contests[5].key == "136224"  # first of 已结束
    assert contests[-1].key == "134957"
    assert all(c.site == "nowcoder" and c.url == f"https://ac.nowcoder.com/acm/contest/{c.key}"
               for c in contests)


@pytest.mark.parametrize(("key", "title", "start", "duration", "kind"), [
    ("136706", "牛客挑战赛89", datetime(2026, 6, 12, 11, 0, tzinfo=UTC), 3 * 3600, "Rated"),
    ("136707", "牛客周赛 Round 148", datetime(2026, 6, 14, 11, 0, tzinfo=UTC), 2 * 3600, "Rated (≤1599)"),
    ("136719", "牛客练习赛155", datetime(2026, 6, 19, 11, 0, tzinfo=UTC), 2 * 3600 + 1800, "Rated (≤2399)"),
    ("133876", "2026牛客暑期多校训练营1", datetime(2026, 7, 17, 4, 0, tzinfo=UTC), 5 * 3600, "Rated"),
    ("135295", "牛客2026年儿童节比赛", datetime(2026, 6, 1, 11, 0, tzinfo=UTC), 2 * 3600, None),
    ("136163", "第九届广西大学生程序设计大赛暨2026邀请赛（热身赛）", datetime(2026, 5, 30, 7, 0, tzinfo=UTC),
     2 * 3600, None),
    ("135365", "牛客小白月赛133", datetime(2026, 5, 29, 11, 0, tzinfo=UTC), 2 * 3600, "Rated (≤1999)"),
    ("134957", "牛客周赛 Round 144", datetime(2026, 5, 17, 11, 0, tzinfo=UTC), 2 * 3600, "Rated (≤1599)"),
])
def test_contest_values(contests, key, title, start, duration, kind):
    contest = by_key(contests)[key]
    assert contest.title == title
    assert contest.start == start
    assert contest.duration == duration
    assert contest.end == start + timedelta(seconds=duration)
    assert contest.kind == kind
    assert contest.url == f"https://ac.nowcoder.com/acm/contest/{key}"


def test_json_agrees_with_the_visible_cards(contests):
    """Each card shows the same id, title, Beijing-time span and Rated tag as its data-json."""
    cards = LexborHTMLParser(capture_text(PAGE)).css(".platform-item")
    assert len(cards) == 15
    for contest, card in zip(contests, cards, strict=True):
        assert card.attributes["data-id"] == contest.key
        assert card.css_first("h4 a").text().strip() == contest.title
        shown = SHOWN_TIME.search(card.css_first("li.match-time-icon").text())
        assert shown is not None
        assert (beijing(shown[1]), beijing(shown[2])) == (contest.start, contest.end)
        assert (card.css_first(".tag-rating") is not None) == (contest.kind is not None)


def beijing(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING).astimezone(UTC)


# --- synthetic pages: shapes the capture does not show ---------------------------------------------------

def contest_data(**changes: Any) -> dict[str, Any]:
    base = {"contestId": 7, "contestName": " 测试赛 ", "contestStartTime": 1781262000000,
            "contestEndTime": 1781272800000, "settingInfo": {"ratingStatus": "No"}}
    return {**base, **changes}


def card(data: Any, *, escapes: int = 2) -> str:
    """A contest card whose data-json is HTML-escaped `escapes` times (NowCoder does it twice)."""
    value = json.dumps(data, ensure_ascii=False)
    for _ in range(escapes):
        value = html.escape(value)
    return f'<div data-id="x" class="platform-item js-item" data-json="{value}"><h4>x</h4></div>'


def page_with(*cards: str) -> str:
    return ('<!DOCTYPE html><html><body><div class="platform-mod js-current"><h2>等你来战</h2>'
            f'{"".join(cards)}</div></body></html>')


def test_a_page_with_no_contests_is_not_an_error():
    assert nowcoder.parse(page_with()) == []


@pytest.mark.parametrize("escapes", [1, 2])
def test_synthetic_card_is_read(escapes):
    (contest,) = nowcoder.parse(page_with(card(contest_data(contestName="A & B <1>"), escapes=escapes)))
    assert (contest.key, contest.title, contest.start, contest.duration, contest.kind) == (
        "7", "A & B <1>", datetime(2026, 6, 12, 11, 0, tzinfo=UTC), 10800, None)


@pytest.mark.parametrize(("settings", "kind"), [
    (None, None),
    ({}, None),
    ({"ratingStatus": None}, None),
    ({"ratingStatus": "Waiting"}, "Rated"),
    ({"ratingStatus": "Finished", "needRatingUpperLimit": False, "ratingUpperLimit": 1999}, "Rated"),
    ({"ratingStatus": "Waiting", "needRatingUpperLimit": True, "ratingUpperLimit": 1599}, "Rated (≤1599)"),
    ({"ratingStatus": "Waiting", "needRatingUpperLimit": True, "ratingUpperLimit": None}, "Rated"),
])
def test_rating_kind(settings, kind):
    (contest,) = nowcoder.parse(page_with(card(contest_data(settingInfo=settings))))
    assert contest.kind == kind


@pytest.mark.parametrize("page", [None, "", "  \n", b"<html></html>", 42])
def test_empty_or_not_text_is_an_error(page):
    with pytest.raises(ParseError, match="empty page"):
        nowcoder.parse(page)


def test_truncated_page_is_an_error():
    page = capture_text(PAGE)
    with pytest.raises(ParseError, match="truncated"):
        nowcoder.parse(page[: len(page) // 2])


def test_page_cut_inside_a_data_json_is_an_error():
    page = capture_text(PAGE)
    cut = page.index("data-json=") + 300
    with pytest.raises(ParseError, match="not JSON"):
        nowcoder.parse(page[:cut] + '"></div></div></body></html>')


def test_page_without_a_contest_section_is_an_error():
    with pytest.raises(ParseError, match="no contest section"):
        nowcoder.parse("<html><head><title>访问验证</title></head><body>请完成验证</body></html>")


def test_card_without_data_json_is_an_error():
    with pytest.raises(ParseError, match="no data-json"):
        nowcoder.parse(page_with('<div data-id="5" class="platform-item js-item"></div>'))


@pytest.mark.parametrize("data", [
    [1, 2],
    "136706",
    contest_data(contestId=None),
    contest_data(contestId="7"),
    contest_data(contestName=None),
    contest_data(contestName="  "),
    {k: v for k, v in contest_data().items() if k != "contestStartTime"},
    {k: v for k, v in contest_data().items() if k != "contestEndTime"},
    contest_data(contestStartTime="soon"),
    contest_data(contestStartTime=10**20, contestEndTime=10**20 + 3600000),
    contest_data(contestEndTime=1781262000000 - 60000),
])
def test_malformed_data_json_is_an_error(data):
    with pytest.raises(ParseError):
        nowcoder.parse(page_with(card(contest_data()), card(data)))
