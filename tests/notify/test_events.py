"""Divisions of one round (same site, same start) are one event; everything else stays on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fetchers import codeforces
from notify.events import division_of, group_events
from tests.captures import capture_json

START = datetime(2026, 11, 28, 14, 35, tzinfo=UTC)


@dataclass(frozen=True)
class Listed:
    """What grouping reads of a contest (models.contest.Contest has these too)."""

    site_id: str
    key: str
    title: str
    url: str
    start: datetime


def contest(key: str, title: str, start: datetime = START, site: str = "codeforces") -> Listed:
    return Listed(site, key, title, f"https://{site}.test/{key}", start)


def shown(contests: list[Listed]) -> list[tuple[str, list[str]]]:
    return [(event.title, [c.key for c in event.contests]) for event in group_events(contests)]


def test_a_round_with_two_divisions_on_codeforces_is_one_event():
    """The real list: 2273/2274 are the two divisions of one round; the combined "Div. 1 + Div. 2" rounds and
    the lone Div. 3 stay as they are; finished Round 1124's divisions are grouped too."""
    payload = capture_json("codeforces/contest_list_trimmed_2026-10-06.json")
    contests = [Listed(c.site, c.key, c.title, c.url, c.start)
                for c in sorted(codeforces.parse(payload), key=lambda c: (c.start, c.key))]
    assert shown(contests) == [
        ("Codeforces Round 1124 (Div. 1, Div. 2)", ["2268", "2269"]),
        ("Codeforces Round 1125 (Div. 3)", ["2275"]),
        ("DeepInfra Round 1 (Codeforces Round 1126, Div. 1 + Div. 2)", ["2271"]),
        ("Codeforces Round (Div. 1, Div. 2)", ["2273", "2274"]),
        ("WorldQuant Round 1 (Codeforces Round Div. 1 + Div. 2)", ["2261"]),
    ]
    [event] = [e for e in group_events(contests) if len(e.contests) == 2 and e.first.key == "2273"]
    assert event.division_names() == ["Div. 1", "Div. 2"] and event.first.url.endswith("/2273")


def test_divisions_keep_their_order_and_text_around_them():
    contests = [contest("2", "Round 902 (Div. 2, based on COMPFEST 15)"),
                contest("1", "Round 902 (Div. 1, based on COMPFEST 15)"),
                contest("3", "Round 902 (Div. 3, based on COMPFEST 15)")]
    assert shown(contests) == [("Round 902 (Div. 1, Div. 2, Div. 3, based on COMPFEST 15)", ["1", "2", "3"])]


def test_only_the_same_site_start_and_title_make_one_event():
    later = START.replace(minute=40)
    contests = [
        contest("a", "Round 5 (Div. 1)"),
        contest("b", "Round 5 (Div. 2)", start=later),  # another start
        contest("c", "Round 5 (Div. 2)", site="codeforces-gym"),  # another site
        contest("d", "Round 6 (Div. 2)"),  # another round
        contest("e", "Educational Round (Rated for Div. 2)"),
        contest("f", "Weekly Contest 400"),
        contest("g", "Weekly Contest 400"),  # no division: two contests, even with one title
    ]
    assert [keys for _, keys in shown(contests)] == [["a"], ["b"], ["c"], ["d"], ["e"], ["f"], ["g"]]


def test_a_round_whose_divisions_are_apart_in_the_list_is_one_event_where_the_first_one_is():
    contests = [contest("1", "Round 7 (Div. 1)"), contest("x", "Other cup"), contest("2", "Round 7 (div 2)")]
    assert shown(contests) == [("Round 7 (Div. 1, div 2)", ["1", "2"]), ("Other cup", ["x"])]


def test_division_of_names_exactly_one_division():
    assert division_of("Codeforces Round 999 (Div. 2)").name == "Div. 2"
    assert division_of("Starters 160 (Division 4)").number == 4
    assert division_of("Codeforces Round (Div. 1 + Div. 2)") is None
    assert division_of("Divide and conquer cup 2") is None
    assert group_events([]) == []
