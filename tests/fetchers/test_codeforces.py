"""Codeforces and Codeforces Gym parsers on every API capture."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fetchers import codeforces, codeforces_gym
from fetchers.contest import ParseError, load_json
from tests.captures import by_key, capture_json, capture_text

CF = "codeforces/"


@pytest.mark.parametrize(("capture", "count"), [
    ("contest_list_2015-01-30T0439Z_body.json", 499),
    ("contest_list_2015-01-30T1321Z_body.json", 499),
    ("contest_list_2015-02-01T1130Z_body.json", 499),
    ("contest_list_result_2023-07-16_extracted_from_js.json", 1758),
    ("contest_list_result_2024-10-04.json", 1921),
    ("contest_list_trimmed_2026-08-23.json", 21),
    ("contest_list_trimmed_2026-10-06.json", 7),
    ("upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-16.json", 14),
    ("upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-17.json", 13),
    ("upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-20.json", 14),
])
def test_every_capture_parses_with_its_count(capture, count):
    contests = codeforces.parse(capture_json(CF + capture))
    assert len(contests) == count
    assert all(c.site == "codeforces" for c in contests)
    assert all(c.url == f"https://codeforces.com/contest/{c.key}" for c in contests)
    assert len({c.key for c in contests}) == count


def test_2015_capture_values():
    contests = by_key(codeforces.parse(capture_json(CF + "contest_list_2015-01-30T0439Z_body.json")))
    first = contests["512"]
    assert first.title == "Codeforces Round #290 (Div. 1)"
    assert first.start == datetime(2015, 2, 2, 16, 30, tzinfo=UTC)
    assert first.duration == 7200 and first.end == datetime(2015, 2, 2, 18, 30, tzinfo=UTC)
    assert first.kind == "Div. 1"
    icpc = contests["509"]
    assert icpc.title == "Codeforces Round #289 (Div. 2, ACM ICPC Rules)"
    assert icpc.start == datetime(2015, 1, 31, 12, 0, tzinfo=UTC) and icpc.duration == 10800
    assert icpc.kind == "Div. 2"
    oldest = contests["1"]
    assert oldest.title == "Codeforces Beta Round #1"
    assert oldest.start == datetime(2010, 2, 19, 12, 0, tzinfo=UTC)


def test_2023_and_2024_capture_values():
    mid = by_key(codeforces.parse(capture_json(CF + "contest_list_result_2023-07-16_extracted_from_js.json")))
    assert mid["1842"].title == "CodeTON Round 5 (Div. 1 + Div. 2, Rated, Prizes!)"
    assert mid["1842"].start == datetime(2023, 6, 24, 14, 5, tzinfo=UTC) and mid["1842"].duration == 10800
    assert mid["1842"].kind == "Div. 1 + 2"
    assert mid["1849"].title == "Educational Codeforces Round 152 (Rated for Div. 2)"
    assert mid["1849"].kind == "Educational"
    late = by_key(codeforces.parse(capture_json(CF + "contest_list_result_2024-10-04.json")))
    assert late["2024"].title == "Codeforces Round (Div. 2)"
    assert late["2024"].start == datetime(2024, 10, 20, 9, 5, tzinfo=UTC) and late["2024"].duration == 7200
    assert late["2021"].title == "Codeforces Round 977 (Div. 2, на основе COMPFEST 16 - Final Round)"


def test_2026_capture_values():
    contests = by_key(codeforces.parse(capture_json(CF + "contest_list_trimmed_2026-10-06.json")))
    assert contests["2273"].title == "Codeforces Round (Div. 1)"
    assert contests["2274"].start == contests["2273"].start == datetime(2026, 10, 11, 18, 35, tzinfo=UTC)
    assert contests["2271"].kind == "Div. 1 + 2" and contests["2271"].duration == 10800
    august = by_key(codeforces.parse(capture_json(CF + "contest_list_trimmed_2026-08-23.json")))
    assert august["2258"].start == datetime(2026, 8, 29, 14, 35, tzinfo=UTC)


def test_series_rows_in_russian_keep_their_title():
    contests = by_key(codeforces.parse(
        capture_json(CF + "upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-16.json")))
    assert contests["1050"].title == "Технокубок 2019 - Ознакомительный Раунд 3"
    assert contests["1050"].duration == 172800
    assert contests["1054"].title == "Mail.Ru Cup 2018 Round 1"
    assert contests["1054"].start == datetime(2018, 10, 18, 16, 35, tzinfo=UTC)


def test_gym_skips_contests_without_a_start_time():
    payload = capture_json(CF + "contest_list_gym_2023-09-03T1024Z.json")
    contests = by_key(codeforces_gym.parse(payload))
    assert len(payload["result"]) == 1653
    assert len(contests) == 680
    assert "100001" not in contests  # '2010 Codeforces Beta Round #1 (training)' has no start time
    ksa = contests["104539"]
    assert ksa.site == "codeforces-gym" and ksa.url == "https://codeforces.com/gym/104539"
    assert ksa.title == "2023 KSA Automata Summer Contest"
    assert ksa.start == datetime(2023, 8, 22, 15, 0, tzinfo=UTC) and ksa.duration == 31622400
    assert {c.kind for c in contests.values()} >= {"Official ICPC Contest", "Training Contest"}


def test_failed_status_is_a_parse_error_with_the_comment():
    with pytest.raises(ParseError, match="User with handle this_handle_does_not_exist_zzz not found"):
        codeforces.parse(capture_json(CF + "error_FAILED_user_info_2026.json"))


@pytest.mark.parametrize("payload", [
    None, "", 42, {}, {"status": "OK"}, {"status": "OK", "result": {"id": 1}},
    {"status": "OK", "result": [{"id": 1}]},
    {"status": "OK", "result": [{"id": 1, "name": "x", "startTimeSeconds": "soon", "durationSeconds": 1}]},
    {"status": "OK", "result": [{"id": 1, "name": "x", "startTimeSeconds": 1e20, "durationSeconds": 1}]},
    {"status": "OK", "result": [{"id": 1, "name": "x", "startTimeSeconds": 1}]},
    {"status": "OK", "result": [{"id": 1, "name": " ", "startTimeSeconds": 1, "durationSeconds": 1}]},
])
def test_malformed_payloads_raise_parse_error(payload):
    with pytest.raises(ParseError):
        codeforces.parse(payload)


def test_truncated_capture_is_a_parse_error():
    text = capture_text(CF + "contest_list_trimmed_2026-10-06.json")
    with pytest.raises(ParseError, match="not JSON"):
        codeforces.parse(load_json(text[: len(text) // 2], "https://codeforces.com/api/contest.list"))
