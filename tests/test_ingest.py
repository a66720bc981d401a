"""Ingest on the real Codeforces captures: upserts, change detection, cancellation rules, refusals.

Runs on PostgreSQL and on SQLite (CONTESTBELL_TEST_DB), as two pytest runs.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fetchers import codeforces
from fetchers.ingest import ShrunkFetch, ingest
from models.contest import ChangeKind, Contest, ContestChange
from models.db import count_queries
from tests.captures import capture_json
from tests.conftest import TEST_DB

SERIES = "codeforces/upcoming_series_2018-10/contest_list_BEFORE_only_2018-10-{}.json"
AT_16 = datetime(2018, 10, 16, 16, 21, tzinfo=UTC)
AT_17 = datetime(2018, 10, 17, 3, 49, tzinfo=UTC)
AT_20 = datetime(2018, 10, 20, 14, 20, tzinfo=UTC)


def series(day: str) -> list[dict]:
    return capture_json(SERIES.format(day))


async def apply(rows: list[dict] | dict, now: datetime) -> dict:
    return (await ingest("codeforces", codeforces.parse(rows), now)).summary()


async def stored(key: str) -> Contest:
    return await Contest.get(site_id="codeforces", key=key)


def without(rows: list[dict], *ids: int) -> list[dict]:
    return [row for row in rows if row["id"] not in ids]


def edited(rows: list[dict], contest_id: int, **changes) -> list[dict]:
    rows = copy.deepcopy(rows)
    for row in rows:
        if row["id"] == contest_id:
            row.update(changes)
    return rows


async def test_series_2018_10_new_then_unchanged_then_renamed_and_new(db):
    first = await apply(series("16"), AT_16)
    assert sorted(first["new"]) == ["1031", "1032", "1043", "1044", "1049", "1050", "1054", "1055", "1056",
                                    "1062", "1067", "1068", "1069", "1070"]
    assert first["unchanged"] == 0

    second = await apply(series("17"), AT_17)
    assert second == {"new": [], "rescheduled": [], "renamed": [], "extended": [], "cancelled": [],
                      "restored": [], "unchanged": 13}
    missed = await stored("1054")  # Mail.Ru Cup Round 1 (starts 10-18) is not listed on 10-17: one miss
    assert missed.misses == 1 and not missed.cancelled

    third = await apply(series("20"), AT_20)
    assert sorted(third["new"]) == ["1061", "1071", "1072"]
    assert sorted(third["renamed"]) == ["1043", "1062", "1067", "1068", "1069"]
    assert third["rescheduled"] == third["cancelled"] == third["extended"] == []
    assert third["unchanged"] == 6
    # 1054, 1049 and 1070 are gone from the list but have started by 10-20: never cancelled
    for key in ("1054", "1049", "1070"):
        assert not (await stored(key)).cancelled

    renamed = await stored("1043")
    assert renamed.title == "Codeforces Round #519 by Botan Investments (Div. 1)"
    change = await ContestChange.get(contest_id=renamed.id, kind=ChangeKind.RENAMED)
    assert change.old_title == "Codeforces Round #518 (Div. 1)"
    assert change.new_title == "Codeforces Round #519 by Botan Investments (Div. 1)"
    assert change.noticed_at == AT_20
    new = await stored("1061")
    assert new.title == "Codeforces Round #TBA (div. 2)"
    assert new.start == datetime(2018, 11, 22, 15, 35, tzinfo=UTC) and new.duration == 7200
    assert await Contest.filter(site_id="codeforces").count() == 17


async def test_2015_contest_509_finishing_is_not_a_change(db):
    first = await apply(capture_json("codeforces/contest_list_2015-01-30T0439Z_body.json"),
                        datetime(2015, 1, 30, 4, 39, tzinfo=UTC))
    assert len(first["new"]) == 499
    again = await apply(capture_json("codeforces/contest_list_2015-01-30T1321Z_body.json"),
                        datetime(2015, 1, 30, 13, 21, tzinfo=UTC))
    assert again["unchanged"] == 499 and again["new"] == []
    later = await apply(capture_json("codeforces/contest_list_2015-02-01T1130Z_body.json"),
                        datetime(2015, 2, 1, 11, 30, tzinfo=UTC))
    assert later["unchanged"] == 499
    assert all(later[kind] == [] for kind in ("new", "rescheduled", "renamed", "cancelled"))
    finished = await stored("509")
    assert finished.start == datetime(2015, 1, 31, 12, 0, tzinfo=UTC) and not finished.cancelled
    assert await ContestChange.filter(kind=ChangeKind.NEW).count() == 499
    assert await ContestChange.exclude(kind=ChangeKind.NEW).count() == 0


async def test_future_contest_cancelled_after_two_missing_fetches_and_restored_when_back(db):
    rows = series("20")
    await apply(rows, AT_20)
    first_miss = await apply(without(rows, 1061), AT_20 + timedelta(minutes=10))
    assert first_miss["cancelled"] == [] and (await stored("1061")).misses == 1
    second_miss = await apply(without(rows, 1061), AT_20 + timedelta(minutes=20))
    assert second_miss["cancelled"] == ["1061"]
    cancelled = await stored("1061")  # kept, only marked
    assert cancelled.cancelled and cancelled.title == "Codeforces Round #TBA (div. 2)"
    third = await apply(without(rows, 1061), AT_20 + timedelta(minutes=30))
    assert third["cancelled"] == []  # told once
    back = await apply(rows, AT_20 + timedelta(minutes=40))
    assert back["restored"] == ["1061"]
    restored = await stored("1061")
    assert not restored.cancelled and restored.misses == 0


async def test_a_miss_then_a_listing_resets_the_count(db):
    rows = series("20")
    await apply(rows, AT_20)
    await apply(without(rows, 1061), AT_20 + timedelta(minutes=10))
    await apply(rows, AT_20 + timedelta(minutes=20))
    await apply(without(rows, 1061), AT_20 + timedelta(minutes=30))
    assert not (await stored("1061")).cancelled


async def test_reschedule_and_duration_change_are_recorded_with_old_and_new_values(db):
    rows = series("20")
    await apply(rows, AT_20)
    moved = edited(rows, 1061, startTimeSeconds=1542900900 + 86400, durationSeconds=9000)
    report = await apply(moved, AT_20 + timedelta(hours=1))
    assert report["rescheduled"] == ["1061"] and report["extended"] == ["1061"]
    contest = await stored("1061")
    assert contest.start == datetime(2018, 11, 23, 15, 35, tzinfo=UTC) and contest.duration == 9000
    assert contest.end == datetime(2018, 11, 23, 18, 5, tzinfo=UTC)
    change = await ContestChange.get(contest_id=contest.id, kind=ChangeKind.RESCHEDULED)
    assert change.old_start == datetime(2018, 11, 22, 15, 35, tzinfo=UTC)
    assert change.new_start == datetime(2018, 11, 23, 15, 35, tzinfo=UTC)


async def test_fetch_with_far_fewer_upcoming_contests_is_refused_and_changes_nothing(db):
    rows = series("20")
    await apply(rows, AT_20)
    changes_before = await ContestChange.all().count()
    with pytest.raises(ShrunkFetch, match="lists 3 upcoming contests where 14 were known"):
        await apply(rows[:3], AT_20 + timedelta(minutes=10))
    with pytest.raises(ShrunkFetch):
        await apply([], AT_20 + timedelta(minutes=20))
    assert await ContestChange.all().count() == changes_before
    assert await Contest.filter(misses__gt=0).count() == 0
    assert await Contest.filter(cancelled=True).count() == 0


async def test_query_count_does_not_grow_with_the_number_of_contests(db):
    small = capture_json("codeforces/contest_list_trimmed_2026-10-06.json")  # 7 contests
    large = capture_json("codeforces/contest_list_result_2024-10-04.json")  # 1921 contests
    now = datetime(2024, 10, 4, 21, 6, tzinfo=UTC)

    with count_queries() as first_small:
        await ingest("codeforces", codeforces.parse(small), now)
    with count_queries() as again_small:
        await ingest("codeforces", codeforces.parse(small), now)
    await Contest.all().delete()
    with count_queries() as first_large:
        await ingest("codeforces", codeforces.parse(large), now)
    with count_queries() as again_large:
        await ingest("codeforces", codeforces.parse(large), now)

    ordering = 1 if TEST_DB == "postgres" else 0  # the change stream's lock (fetchers/ingest.in_commit_order)
    assert again_small.count == again_large.count == 1  # one read, nothing to write
    assert first_small.count == 4 + ordering  # read, upsert, read the new ids back, change records
    # in batches of 500 rows: upsert, id read-back and change records of 1921 contests take 4 statements
    # each: a constant per 500 contests, never a query per contest
    assert first_large.count == 1 + 3 * 4 + ordering


async def test_updated_at_moves_only_when_a_row_is_written(db):
    """Feeds take a contest's revision from `updated_at`: it must move on any written change (a new link too,
    which records no change) and stay put when the fetch brought nothing new."""
    rows = series("20")
    await apply(rows, AT_20)
    first = {key: (await stored(key)).updated_at for key in ("1061", "1062")}
    rows = edited(rows, 1061, name="Codeforces Round (renamed)")
    await apply(rows, AT_20 + timedelta(minutes=10))
    renamed = await stored("1061")
    assert renamed.updated_at > first["1061"]
    assert (await stored("1062")).updated_at == first["1062"]
    relinked = [replace(c, url=c.url + "?locale=en") if c.key == "1062" else c for c in codeforces.parse(rows)]
    report = await ingest("codeforces", relinked, AT_20 + timedelta(minutes=20))
    assert report.changes == [] and (await stored("1062")).updated_at > first["1062"]
    await apply(without(rows, 1061), AT_20 + timedelta(minutes=30))  # a first miss is written too
    assert (await stored("1061")).updated_at > renamed.updated_at
