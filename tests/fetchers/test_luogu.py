"""Luogu: the lentille-context JSON of the real contest list page, cross-checked with its noscript list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser

from fetchers import luogu
from fetchers.contest import Contest, ParseError
from tests.captures import by_key, capture_text

PAGE = "luogu/contest_list_page_2026-06.html"
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def contests() -> list[Contest]:
    return luogu.parse(capture_text(PAGE))


def test_every_contest_of_the_page_is_read(contests):
    assert len(contests) == 20
    assert len(by_key(contests)) == 20
    assert [c.key for c in contests[:3]] == ["297106", "330334", "318072"]
    assert contests[-1].key == "318187"
    assert all(c.site == "luogu" and c.url == f"https://www.luogu.com.cn/contest/{c.key}" for c in contests)


@pytest.mark.parametrize(("key", "title", "start", "duration", "kind"), [
    ("297106", "LGR-288-Div 2 / lnOI Round 1", datetime(2026, 7, 4, 6, 0, tzinfo=UTC), 4 * 3600, "IOI"),
    ("330334", "[SCCPC 2026] 2026 年四川省大学生程序设计竞赛重现赛", datetime(2026, 6, 21, 5, 0, tzinfo=UTC),
     5 * 3600, "ACM"),
    ("318072", "【LGR-287-Div.3】洛谷基础赛 #36 &「NLOI」Round1", datetime(2026, 6, 20, 6, 0, tzinfo=UTC),
     3 * 3600 + 1800, "IOI"),
    ("326698", "【LGR-285-Div.2】洛谷蓝桥杯国赛模拟赛 2026", datetime(2026, 5, 30, 6, 0, tzinfo=UTC),
     4 * 3600, "OI"),
    ("327902", "【MX-J30】梦熊 J 组 · H₂O赛 & FDOI Round 1", datetime(2026, 5, 30, 1, 0, tzinfo=UTC),
     3 * 3600, "IOI"),
    ("326688", "【LGR-284-Div.4】洛谷入门赛 #47", datetime(2026, 5, 22, 11, 0, tzinfo=UTC), 2 * 3600, "IOI"),
    ("318187", "「Spring OI」Round 1 & 春日清新赛", datetime(2026, 5, 16, 0, 30, tzinfo=UTC),
     4 * 3600, "IOI"),
])
def test_contest_values(contests, key, title, start, duration, kind):
    contest = by_key(contests)[key]
    assert contest.title == title
    assert contest.start == start
    assert contest.duration == duration
    assert contest.end == start + timedelta(seconds=duration)
    assert contest.kind == kind
    assert contest.url == f"https://www.luogu.com.cn/contest/{key}"


def test_rule_types_on_the_page(contests):
    kinds = [c.kind for c in contests]
    assert kinds.count("ACM") == 6  # the XCPC replays and LAOI Round 18 (team contests)
    assert kinds.count("OI") == 1
    assert kinds.count("IOI") == 13


def test_json_agrees_with_the_noscript_list(contests):
    """The page's own no-JS list shows the same ids, titles and Beijing-time spans."""
    items = LexborHTMLParser(capture_text(PAGE)).css("#app > ul > li")
    assert len(items) == 20
    for contest, item in zip(contests, items, strict=True):
        link = item.css_first("h3 a")
        assert link.attributes["href"] == f"/contest/{contest.key}"
        assert link.text() == contest.title
        start_text, end_text = item.css_first("small").text().split(" ~ ")
        assert beijing(start_text) == contest.start
        assert beijing(end_text) == contest.end


def beijing(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)


# --- synthetic pages: shapes the capture does not show ---------------------------------------------------

def page_with(context: Any) -> str:
    blob = json.dumps(context, ensure_ascii=False)
    return (f'<!DOCTYPE html><html><head><script id="lentille-context" type="application/json">{blob}'
            '</script></head><body><div id="app"></div></body></html>')


def list_context(*rows: Any) -> dict[str, Any]:
    return {"instance": "main", "template": "contest.list", "status": 200,
            "data": {"contests": {"perPage": 20, "count": len(rows), "result": list(rows)}}}


def row(**changes: Any) -> dict[str, Any]:
    base = {"id": 42, "startTime": 1783144800, "endTime": 1783159200, "name": " 测试赛 ", "method": 2}
    return {**base, **changes}


def test_an_empty_contest_list_is_not_an_error():
    assert luogu.parse(page_with(list_context())) == []


def test_synthetic_row_is_read():
    (contest,) = luogu.parse(page_with(list_context(row())))
    assert (contest.key, contest.title, contest.start, contest.duration, contest.kind) == (
        "42", "测试赛", datetime(2026, 7, 4, 6, 0, tzinfo=UTC), 14400, "ACM")


def test_unknown_rule_type_gives_no_kind():
    (contest,) = luogu.parse(page_with(list_context(row(method=99))))
    assert contest.kind is None


def test_truncated_page_is_an_error():
    page = capture_text(PAGE)
    cut = page.index('"result":[') + 500
    with pytest.raises(ParseError, match="not JSON"):
        luogu.parse(page[:cut])


@pytest.mark.parametrize("page", [None, "", "   \n", b"<html></html>", 42])
def test_empty_or_not_text_is_an_error(page):
    with pytest.raises(ParseError, match="empty page"):
        luogu.parse(page)


def test_page_without_the_context_script_is_an_error():
    with pytest.raises(ParseError, match="no lentille-context"):
        luogu.parse("<html><head><title>验证</title></head><body>请稍候…</body></html>")


@pytest.mark.parametrize("context", [
    [],
    {"status": 403, "template": "error.403", "data": {"errorMessage": "forbidden"}},
    {"data": None},
    {"data": {"contests": {"result": {}}}},
    {"data": {"contests": []}},
])
def test_wrong_context_shape_is_an_error(context):
    with pytest.raises(ParseError):
        luogu.parse(page_with(context))


@pytest.mark.parametrize("bad_row", [
    [1, 2],
    "297106",
    row(id=None),
    row(id="42"),
    row(name=None),
    {k: v for k, v in row().items() if k != "startTime"},
    {k: v for k, v in row().items() if k != "endTime"},
    row(startTime=None),
    row(startTime="soon"),
    row(startTime=10**20, endTime=10**20 + 3600),
    row(endTime=1783144800 - 60),
    row(name="   "),
])
def test_malformed_rows_are_errors(bad_row):
    with pytest.raises(ParseError):
        luogu.parse(page_with(list_context(row(id=1), bad_row)))
