"""CodeChef contest list API: present/future/past lists, India-time offsets, duration in minutes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from fetchers import codechef
from fetchers.contest import ParseError, load_json
from tests.captures import by_key, capture_json, capture_text

LIST = "codechef/list_contests_all_2025-10-25.json"


def test_capture_reads_present_future_and_past_but_not_skill_tests():
    contests = codechef.parse(capture_json(LIST))
    assert len(contests) == 23  # 1 present + 2 future + 20 past; 7 skill tests left out
    keys = [c.key for c in contests]
    assert keys[:4] == ["DEVWEEKEND21", "START210", "START211", "START209"]
    assert keys[-1] == "DSAMONDAY02"
    assert "basic-python" not in keys
    assert [c.kind for c in contests].count("Starters") == 9


@pytest.mark.parametrize(("key", "title", "start", "duration", "kind"), [
    # +05:30 offsets: midnight India time is 18:30 UTC the day before.
    ("DEVWEEKEND21", "Weekend Dev Challenge 21: Full Stack Projects using MERN",
     datetime(2025, 10, 24, 18, 30, tzinfo=UTC), 2880 * 60, None),
    ("START210", "Starters 210", datetime(2025, 10, 29, 14, 30, tzinfo=UTC), 7200, "Starters"),
    ("START211", "Starters 211", datetime(2025, 11, 5, 14, 30, tzinfo=UTC), 7200, "Starters"),
    ("START209", "Starters 209 (Rated till 5 star)", datetime(2025, 10, 22, 14, 30, tzinfo=UTC), 7200,
     "Starters"),
    ("DSAMONDAY08", "Monday Munch - DSA Challenge 08", datetime(2025, 10, 20, 12, 30, 31, tzinfo=UTC), 10800,
     None),
    ("DEVWEEKEND15", "Weekend Dev Challenge 15: Classify images using Deep Learning",
     datetime(2025, 9, 12, 18, 30, tzinfo=UTC), 86400, None),
])
def test_capture_values(key, title, start, duration, kind):
    contest = by_key(codechef.parse(capture_json(LIST)))[key]
    assert (contest.title, contest.start, contest.duration, contest.kind) == (title, start, duration, kind)
    assert contest.url == f"https://www.codechef.com/{key}"
    assert contest.site == "codechef"


def payload_with_first_row(change) -> dict[str, Any]:
    payload = copy.deepcopy(capture_json(LIST))
    change(payload["future_contests"][0])
    return payload


def test_plain_dates_are_india_time_when_iso_fields_are_missing():
    def drop_iso_and_duration(row):
        del row["contest_start_date_iso"], row["contest_end_date_iso"], row["contest_duration"]

    contest = by_key(codechef.parse(payload_with_first_row(drop_iso_and_duration)))["START210"]
    assert contest.start == datetime(2025, 10, 29, 14, 30, tzinfo=UTC)
    assert contest.duration == 7200


def test_empty_lists_are_not_an_error():
    payload = {"status": "success", "message": "All contests list", "present_contests": [],
               "future_contests": [], "past_contests": []}
    assert codechef.parse(payload) == []


def test_failure_status_becomes_parse_error_with_message():
    with pytest.raises(ParseError, match="Something went wrong"):
        codechef.parse({"status": "error", "message": "Something went wrong"})


def test_truncated_body_is_parse_error():
    text = capture_text(LIST)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 3], codechef.API)


@pytest.mark.parametrize("payload", [
    None, "", [], {}, {"status": "success"},
    {"status": "success", "present_contests": [], "future_contests": "none", "past_contests": []},
    {"status": "success", "present_contests": [], "future_contests": [42], "past_contests": []},
])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        codechef.parse(payload)


@pytest.mark.parametrize(("field", "value"), [
    ("contest_code", ...), ("contest_name", None), ("contest_start_date_iso", "29 Oct 2025 soon"),
    ("contest_start_date_iso", "2025-10-29T20:00:00"),  # no offset
    ("contest_duration", "two hours"), ("contest_duration", "-120"),
])
def test_broken_rows_raise_parse_error(field, value):
    """The real capture with one field of its first future contest removed (...) or replaced."""
    def change(row):
        if value is ...:
            del row[field]
        else:
            row[field] = value

    with pytest.raises(ParseError):
        codechef.parse(payload_with_first_row(change))
