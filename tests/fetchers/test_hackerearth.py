"""HackerEarth browser extension feed: ongoing and upcoming challenges keyed by their URL slug."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from fetchers import hackerearth
from fetchers.contest import ParseError, load_json
from tests.captures import by_key, capture_json, capture_text

EVENTS = "hackerearth/chrome_extension_events_2026-10.json"


def test_capture_lists_every_event():
    contests = hackerearth.parse(capture_json(EVENTS))
    assert [c.key for c in contests] == [
        "yuva-yodha-energy-tech-hackathon", "hcltech-java-challenge-2027",
        "hcltech-gcp-data-engineer-hiring-challenge", "hackcellence-the-embark-edition",
        "vibecode-arena-ai-innovation-arena", "pride-in-tech-by-godrej-capital",
    ]
    assert [c.kind for c in contests] == ["hackathon", "competitive", "competitive", "hackathon", "hackathon",
                                          "competitive"]


@pytest.mark.parametrize(("key", "title", "start", "duration", "kind", "url"), [
    ("yuva-yodha-energy-tech-hackathon", "Yuva Yodha Energy Tech Hackathon",
     datetime(2026, 8, 16, 18, 30, tzinfo=UTC), 49 * 86400 - 60, "hackathon",
     "https://www.hackerearth.com/challenges/hackathon/yuva-yodha-energy-tech-hackathon/"),
    ("hcltech-java-challenge-2027", "HCLTech Java Engineering Hiring Challenge",
     datetime(2026, 9, 5, 12, 30, tzinfo=UTC), 29 * 86400 + 5 * 3600 + 59 * 60, "competitive",
     "https://www.hackerearth.com/challenges/competitive/hcltech-java-challenge-2027/"),
    ("hackcellence-the-embark-edition", "HackCellence: The Embark Edition",
     datetime(2026, 9, 21, 16, 30, tzinfo=UTC), 17 * 86400 - 4 * 3600, "hackathon",
     "https://www.hackerearth.com/challenges/hackathon/hackcellence-the-embark-edition/"),
    ("pride-in-tech-by-godrej-capital", "Pride In Tech by Godrej Capital",
     datetime(2026, 10, 9, 12, 30, tzinfo=UTC), 9 * 86400 + 5 * 3600 + 59 * 60, "competitive",
     "https://www.hackerearth.com/challenges/competitive/pride-in-tech-by-godrej-capital/"),
])
def test_capture_values(key, title, start, duration, kind, url):
    contest = by_key(hackerearth.parse(capture_json(EVENTS)))[key]
    assert (contest.title, contest.start, contest.duration, contest.kind, contest.url) == (
        title, start, duration, kind, url)
    assert contest.site == "hackerearth"


def first_event_changed(change) -> dict[str, Any]:
    payload = copy.deepcopy(capture_json(EVENTS))
    change(payload["response"][0])
    return payload


def test_local_times_with_offset_are_used_when_utc_fields_are_missing():
    def drop_utc(event):
        del event["start_utc_tz"], event["end_utc_tz"]

    contest = hackerearth.parse(first_event_changed(drop_utc))[0]
    assert contest.start == datetime(2026, 8, 16, 18, 30, tzinfo=UTC)
    assert contest.duration == 49 * 86400 - 60


def test_an_id_is_preferred_to_the_url_slug():
    def add_id(event):
        event["id"] = 91234

    assert hackerearth.parse(first_event_changed(add_id))[0].key == "91234"


def test_challenge_type_is_the_kind_for_urls_outside_challenges():
    def external(event):
        event["url"] = "https://example.org/hack/yuva"

    contest = hackerearth.parse(first_event_changed(external))[0]
    assert (contest.key, contest.kind) == ("yuva", "Monthly Challenges")


def test_empty_feed_is_not_an_error():
    assert hackerearth.parse({"response": []}) == []


def test_truncated_body_is_parse_error():
    text = capture_text(EVENTS)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 2], hackerearth.API)


@pytest.mark.parametrize("payload", [None, "", [], {}, {"response": None}, {"response": ["event"]}])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        hackerearth.parse(payload)


@pytest.mark.parametrize("changes", [
    {"url": ...}, {"url": "/challenges/"}, {"url": "https://www.hackerearth.com/"}, {"title": ...},
    {"start_utc_tz": ..., "start_tz": ...}, {"start_utc_tz": "Aug 17, 2026"},
    {"end_utc_tz": "2026-10-04 18:29:00"},  # no offset
])
def test_broken_events_raise_parse_error(changes):
    """The real capture with fields of its first event removed (...) or replaced."""
    def change(event):
        for field, value in changes.items():
            if value is ...:
                del event[field]
            else:
                event[field] = value

    with pytest.raises(ParseError):
        hackerearth.parse(first_event_changed(change))


def test_end_before_start_is_parse_error():
    def swap(event):
        event["start_utc_tz"], event["end_utc_tz"] = event["end_utc_tz"], event["start_utc_tz"]

    with pytest.raises(ParseError, match="negative duration"):
        hackerearth.parse(first_event_changed(swap))
