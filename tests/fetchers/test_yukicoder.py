"""yukicoder `/api/v1/contest/future`: upcoming contests with +09:00 offsets, listed in date order, not Id order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fetchers import yukicoder
from fetchers.contest import ParseError, load_json
from tests.captures import capture_json, capture_text, with_first_row_changed

BODY_2021 = "yukicoder/contest_future_2021-09-28_body.json"
CASSETTE_2021 = "yukicoder/contest_future_2021-09-28_govcr_cassette_session_redacted.yaml"
COMMENT_2024 = "yukicoder/contest_future_2024-04_extracted_from_code_comment.json"


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Every contest of both captures: 21:20 Japan time is 12:20 UTC, and each runs two hours.
EXPECTED = {
    BODY_2021: [
        ("351", "yukicoder contest", at(2021, 10, 1, 12, 20), at(2021, 10, 1, 14, 20)),
        ("353", "yukicoder contest", at(2021, 10, 8, 12, 20), at(2021, 10, 8, 14, 20)),
        ("354", "yukicoder contest", at(2021, 10, 15, 12, 20), at(2021, 10, 15, 14, 20)),
        ("355", "yukicoder contest", at(2021, 10, 22, 12, 20), at(2021, 10, 22, 14, 20)),
        ("352", "yukicoder contest", at(2021, 10, 29, 12, 20), at(2021, 10, 29, 14, 20)),
        ("356", "yukicoder contest （オムニバス 6問程度問題募集中）", at(2021, 11, 5, 12, 20), at(2021, 11, 5, 14, 20)),
    ],
    COMMENT_2024: [
        ("490", "yukicoder contest (ゲーム問題コンテスト)", at(2024, 4, 12, 12, 20), at(2024, 4, 12, 14, 20)),
        ("488", "yukicoder contest", at(2024, 4, 19, 12, 20), at(2024, 4, 19, 14, 20)),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_contest_of_each_capture(name):
    contests = yukicoder.parse(capture_json(name))
    assert [(c.key, c.title, c.start, c.end) for c in contests] == EXPECTED[name]
    assert [c.url for c in contests] == [f"https://yukicoder.me/contests/{key}" for key, *_ in EXPECTED[name]]
    assert all(c.site == "yukicoder" and c.duration == 7200 and c.kind is None and c.details is None
               for c in contests)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_list_is_in_date_order_not_id_order(name):
    contests = yukicoder.parse(capture_json(name))
    assert [c.start for c in contests] == sorted(c.start for c in contests)
    assert [int(c.key) for c in contests] != sorted(int(c.key) for c in contests)


def test_cassette_holds_the_same_body():
    """The go-vcr cassette the body was taken from answers the same list (its YAML scalar folds lines)."""
    yaml = pytest.importorskip("yaml")
    cassette = yaml.safe_load(capture_text(CASSETTE_2021))
    (interaction,) = cassette["interactions"]
    assert interaction["request"]["url"] == yukicoder.API
    body = interaction["response"]["body"]
    assert body == capture_text(BODY_2021)
    assert interaction["response"]["headers"]["Content-Length"] == [str(len(body.encode()))]


def test_empty_list_is_not_an_error():
    assert yukicoder.parse([]) == []


def test_truncated_body_is_parse_error():
    text = capture_text(BODY_2021)
    with pytest.raises(ParseError):
        load_json(text[: len(text) // 2], yukicoder.API)


@pytest.mark.parametrize("payload", [
    None, "", {}, {"Id": 351}, [None], [42], ["351"], [[351, "yukicoder contest"]],
])
def test_wrong_shapes_raise_parse_error(payload):
    with pytest.raises(ParseError):
        yukicoder.parse(payload)


def payload_with_first_row(field: str, value: Any) -> list[dict[str, Any]]:
    """The real 2021 capture with one field of its first contest removed (...) or replaced."""
    return with_first_row_changed(capture_json(BODY_2021), field, value)


@pytest.mark.parametrize(("field", "value"), [
    ("Id", ...), ("Id", None), ("Id", "351"), ("Id", 351.0), ("Id", True), ("Id", -351), ("Id", 10**40),
    ("Name", ...), ("Name", None), ("Name", 351), ("Name", "   "),
    ("Date", ...), ("Date", None), ("Date", 1633090800), ("Date", "2021-10-01T21:20:00"),  # no offset
    ("Date", "tomorrow"), ("Date", ["2021-10-01T21:20:00+09:00"]),
    ("EndDate", ...), ("EndDate", "2021-10-01T21:19:59+09:00"),  # ends before it starts
    ("EndDate", "9999-12-31T23:59:59-12:00"),  # beyond the last datetime once in UTC
    ("EndDate", "9999-12-31T23:59:59+09:00"),  # 8,000 years: more than the database holds
])
def test_broken_rows_raise_parse_error_naming_the_row(field, value):
    with pytest.raises(ParseError, match="yukicoder: contest"):
        yukicoder.parse(payload_with_first_row(field, value))
