"""Time zones as people type them (notify.zones): the pure parsing and the tzinfo behind a stored name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notify.zones import COMMON_ZONES, parse_zone, zone_of


@pytest.mark.parametrize(("typed", "zone"), [
    ("Europe/Minsk", "Europe/Minsk"),
    ("europe/minsk", "Europe/Minsk"),
    ("  AMERICA/NEW_YORK ", "America/New_York"),
    ("America/New York", "America/New_York"),
    ("Asia/Kolkata", "Asia/Kolkata"),
    ("Etc/GMT+3", "Etc/GMT+3"),
    ("UTC", "UTC"),
    ("utc", "UTC"),
    ("GMT", "UTC"),
    ("UTC+3", "UTC+03:00"),
    ("utc+3", "UTC+03:00"),
    ("GMT+3", "UTC+03:00"),
    ("+3", "UTC+03:00"),
    ("UTC + 3", "UTC+03:00"),
    ("UTC-04:30", "UTC-04:30"),
    ("UTC-0430", "UTC-04:30"),
    ("UTC+530", "UTC+05:30"),
    ("UTC+05:45", "UTC+05:45"),
    ("UTC\u22123", "UTC-03:00"),  # a typographic minus sign
    ("UTC+14", "UTC+14:00"),
    ("UTC-14:00", "UTC-14:00"),
    ("minsk", "Europe/Minsk"),
    ("New York", "America/New_York"),
])
def test_zones_people_type(typed, zone):
    assert parse_zone(typed) == zone


@pytest.mark.parametrize("typed", [
    "", "   ", "Mars/Phobos", "UTC+15", "UTC-15", "UTC+14:30", "UTC+3:75", "UTC+3:5", "UTC+1:2:3", "UTC3",
    "localtime", "Factory", "Europe/", "istanbul",  # istanbul names two zones: Europe/ and Asia/Istanbul
    "../../etc/passwd", "Europe/Minsk; DROP TABLE account",
])
def test_what_is_not_a_zone(typed):
    assert parse_zone(typed) is None


def test_common_zones_are_canonical_and_fit_in_callback_data():
    for zone in COMMON_ZONES:
        assert parse_zone(zone) == zone
        assert ":" not in zone and len(zone) < 50


def test_fixed_offsets_keep_their_name_and_offset():
    zone = zone_of("UTC-04:30")
    moment = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
    assert zone.utcoffset(moment) == -timedelta(hours=4, minutes=30)
    assert moment.astimezone(zone).strftime("%H:%M") == "07:30"
    assert zone_of("UTC+14:00").utcoffset(moment) == timedelta(hours=14)


def test_named_zones_follow_daylight_saving():
    berlin = zone_of("Europe/Berlin")
    assert isinstance(berlin, ZoneInfo)
    assert berlin.utcoffset(datetime(2024, 1, 15)) == timedelta(hours=1)
    assert berlin.utcoffset(datetime(2024, 7, 15)) == timedelta(hours=2)


def test_unknown_stored_names_fall_back_to_utc():
    assert zone_of("Mars/Phobos") == ZoneInfo("UTC")
    assert zone_of("UTC") == ZoneInfo("UTC")
