"""The `contestbell` command line as a person at a terminal uses it (real processes)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestServer

from tests.captures import capture
from tests.processes import contestbell, contestbell_env
from tests.replay import Replay

SERIES = "codeforces/upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-{}.json"


def assert_usage_error(result, message: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_sites_lists_every_site():
    result = contestbell("sites", env=contestbell_env())
    assert result.returncode == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == ["atcoder", "codechef", "codeforces", "codeforces-gym", "ctftime", "dmoj",
                                        "hackerearth", "hackerrank", "leetcode", "luogu", "nowcoder", "topcoder",
                                        "yukicoder"]
    assert ["codeforces", "Codeforces", "https://codeforces.com"] in rows


def test_parse_prints_json_lines_sorted_by_start():
    result = contestbell("parse", "codeforces", str(capture("codeforces/contest_list_trimmed_2026-10-06.json")),
                         env=contestbell_env())
    assert result.returncode == 0, result.stderr
    contests = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["key"] for c in contests] == ["2268", "2269", "2275", "2271", "2273", "2274", "2261"]
    assert contests[0] == {"site": "codeforces", "key": "2268", "title": "Codeforces Round 1124 (Div. 1)",
                           "url": "https://codeforces.com/contest/2268", "start": "2026-09-26T14:35:00Z",
                           "end": "2026-09-26T17:05:00Z", "duration": 9000, "kind": "Div. 1"}


def test_parse_html_site_in_japanese():
    result = contestbell("parse", "atcoder", str(capture("atcoder/contests_archive_ja_2019-10.html")),
                         env=contestbell_env())
    assert result.returncode == 0, result.stderr
    contests = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(contests) == 50
    assert all(c["start"].endswith("Z") for c in contests)
    assert contests == sorted(contests, key=lambda c: (c["start"], c["key"]))


@pytest.mark.parametrize(("args", "message"), [
    (["parse", "nosuchsite", "x.json"], "unknown site 'nosuchsite'; known sites: atcoder,"),
    (["parse", "codeforces", "/no/such/file.json"], "cannot read /no/such/file.json"),
    (["parse", "codeforces", "codeforces/error_FAILED_user_info_2026.json"], "codeforces answered 'handles:"),
    (["parse", "codeforces", "atcoder/contests_page_en_2026-06.html"], "answer is not JSON"),
    (["parse", "atcoder", "codeforces/contest_list_trimmed_2026-10-06.json"], "atcoder:"),
])
def test_bad_input_is_one_line_and_exit_status_2(args, message):
    args = [str(capture(a)) if "/" in a and not a.startswith("/") else a for a in args]
    assert_usage_error(contestbell(*args, env=contestbell_env()), message)


def test_bad_setting_is_one_line_and_exit_status_2():
    assert_usage_error(contestbell("sites", env=contestbell_env(http_port="eighty")),
                       "bad setting CONTESTBELL_HTTP_PORT")


def test_ingest_prints_what_changed(db):
    env = contestbell_env(database_url=db)
    runs = [("16", "2018-10-16T16:21:00Z"), ("17", "2018-10-17T03:49:00Z"), ("20", "2018-10-20T14:20:00Z")]
    outputs = []
    for day, now in runs:
        result = contestbell("ingest", "codeforces", str(capture(SERIES.format(day))), "--now", now, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert len(outputs[0]["new"]) == 14
    assert outputs[1] == {"new": [], "rescheduled": [], "renamed": [], "extended": [], "cancelled": [],
                          "restored": [], "unchanged": 13}
    assert sorted(outputs[2]["new"]) == ["1061", "1071", "1072"]
    assert sorted(outputs[2]["renamed"]) == ["1043", "1062", "1067", "1068", "1069"]


def test_ingest_rejects_a_bad_clock(db):
    result = contestbell("ingest", "codeforces", str(capture(SERIES.format("16"))), "--now", "yesterday",
                         env=contestbell_env(database_url=db))
    assert_usage_error(result, "--now 'yesterday' is not an ISO 8601 time")


def test_migrate_on_a_fresh_database(db_url):
    result = contestbell("migrate", env=contestbell_env(database_url=db_url))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "migrations applied"
    again = contestbell("migrate", env=contestbell_env(database_url=db_url))
    assert again.returncode == 0, again.stderr


async def test_fetch_prints_a_summary_per_site_and_fails_when_one_site_fails(db):
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror:
        env = contestbell_env(database_url=db, fetch_via=str(mirror.make_url("")), keep_past_days="36500")
        # the replay server runs on this event loop: wait for the process in a thread
        result = await asyncio.to_thread(contestbell, "fetch", "codeforces", "leetcode", env=env)
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(line["site"], len(line["new"])) for line in lines] == [("codeforces", 7), ("leetcode", 2)]

        replay.break_route("leetcode.com/graphql", "garbage")
        # the replay server runs on this event loop: wait for the process in a thread
        result = await asyncio.to_thread(contestbell, "fetch", "codeforces", "leetcode", env=env)
        assert result.returncode == 1
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert lines[0] == {"site": "codeforces", "new": [], "rescheduled": [], "renamed": [], "extended": [],
                            "cancelled": [], "restored": [], "unchanged": 7}
        assert lines[1]["site"] == "leetcode" and "not JSON" in lines[1]["error"]
