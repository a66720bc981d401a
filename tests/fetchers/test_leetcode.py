"""LeetCode GraphQL: both saved answer shapes (allContests, upcomingContests) and malformed ones."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from fetchers import leetcode
from fetchers.contest import ParseError, load_json
from tests.captures import by_key, capture_json, capture_text

ALL = "leetcode/graphql_allContests_2026-06.json"
UPCOMING = "leetcode/graphql_upcomingContests_2026-10.json"


def test_upcoming_contests_capture():
    contests = leetcode.parse(capture_json(UPCOMING))
    assert [(c.key, c.title, c.start, c.duration, c.kind, c.url) for c in contests] == [
        ("biweekly-contest-193", "Biweekly Contest 193", datetime(2026, 10, 10, 14, 30, tzinfo=UTC), 5400,
         "biweekly", "https://leetcode.com/contest/biweekly-contest-193"),
        ("weekly-contest-523", "Weekly Contest 523", datetime(2026, 10, 11, 2, 30, tzinfo=UTC), 5400,
         "weekly", "https://leetcode.com/contest/weekly-contest-523"),
    ]
    assert all(c.site == "leetcode" for c in contests)


def test_all_contests_capture_counts():
    contests = leetcode.parse(capture_json(ALL))
    assert len(contests) == 699
    assert len(by_key(contests)) == 699
    kinds = [c.kind for c in contests]
    assert kinds.count("biweekly") == 185
    assert kinds.count("weekly") == 508
    assert kinds.count(None) == 6


@pytest.mark.parametrize(("key", "title", "start", "duration", "kind"), [
    ("weekly-contest-507", "Weekly Contest 507", datetime(2026, 6, 21, 2, 30, tzinfo=UTC), 5400, "weekly"),
    ("biweekly-contest-185", "Biweekly Contest 185", datetime(2026, 6, 20, 14, 30, tzinfo=UTC), 5400,
     "biweekly"),
    ("contest-focus-mode", "Contest Focus Mode", datetime(2025, 5, 28, 8, 30, tzinfo=UTC), 54000, None),
    ("smarking-algorithm-contest-4", "Smarking Algorithm Contest 4",
     datetime(2016, 11, 13, 2, 30, tzinfo=UTC), 9000, None),
    ("leetcode-weekly-contest-2", "Weekly Contest 2",
     datetime(2016, 8, 28, 1, 30, tzinfo=UTC), 9000, "weekly"),
    ("warm-up-contest", "Warm Up Contest", datetime(2016, 8, 21, 0, 0, tzinfo=UTC), 86400, None),
])
def test_all_contests_capture_values(key, title, start, duration, kind):
    contest = by_key(leetcode.parse(capture_json(ALL)))[key]
    assert (contest.title, contest.start, contest.duration, contest.kind) == (title, start, duration, kind)
    assert contest.url == f"https://leetcode.com/contest/{key}"


def test_empty_upcoming_list_is_not_an_error():
    assert leetcode.parse({"data": {"upcomingContests": []}}) == []


def test_graphql_errors_become_parse_error_with_message():
    payload = {"errors": [{"message": "Cannot query field \"upcomingContest\" on type \"Query\"."}],
               "data": None}
    with pytest.raises(ParseError, match="Cannot query field"):
        leetcode.parse(payload)


def test_truncated_body_is_parse_error():
    text = capture_text(UPCOMING)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 2], leetcode.API)


@pytest.mark.parametrize("payload", [
    None, "", [], {}, {"data": None}, {"data": {}}, {"data": {"upcomingContests": None}},
    {"data": {"upcomingContests": ["weekly-contest-523"]}},
])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        leetcode.parse(payload)


@pytest.mark.parametrize(("field", "value"), [
    ("titleSlug", ...), ("title", None), ("startTime", ...), ("startTime", "soon"), ("startTime", 10**20),
    ("duration", None), ("duration", -5400),
])
def test_broken_rows_raise_parse_error(field, value):
    """The real capture with one field of its first row removed (...) or replaced."""
    payload = copy.deepcopy(capture_json(UPCOMING))
    row = payload["data"]["upcomingContests"][0]
    if value is ...:
        del row[field]
    else:
        row[field] = value
    with pytest.raises(ParseError):
        leetcode.parse(payload)
