"""Time zones as people type them (notify.zones): the pure parsing and the tzinfo behind a stored name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notify.zones import COMMON_ZONES, ZONES_BY_LANGUAGE, is_zone_name, parse_zone, zone_display, zone_of

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


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
    ("new-york", "America/New_York"),
    ("moscow", "Europe/Moscow"),
    ("Tokyo", "Asia/Tokyo"),
    ("kiev", "Europe/Kyiv"),  # an older name of the city: stored under today's
    ("istanbul", "Europe/Istanbul"),  # Asia/Istanbul is only another name of the same zone
    # city names in the languages the bot speaks (CLDR), case, spaces, dashes and "ё" ignored
    ("Москва", "Europe/Moscow"),
    ("москва", "Europe/Moscow"),
    ("токио", "Asia/Tokyo"),
    ("Нью-Йорк", "America/New_York"),
    ("нью йорк", "America/New_York"),
    ("Калькутта", "Asia/Kolkata"),
    ("Киев", "Europe/Kyiv"),
    # abbreviations and a few names that are no zone's city (notify.zones.ALIASES)
    ("MSK", "Europe/Moscow"),
    ("мск", "Europe/Moscow"),
    ("Санкт-Петербург", "Europe/Moscow"),
    ("EST", "America/New_York"),  # the region people mean, DST included: not the fixed zone "EST"
    ("est", "America/New_York"),
    ("PST", "America/Los_Angeles"),
    ("CET", "Europe/Berlin"),
    ("IST", "Asia/Kolkata"),  # India, not Israel or Ireland
    ("  Europe/Moscow ", "Europe/Moscow"),
    ("МСК+4", "UTC+07:00"),  # offsets from Moscow time, as Russians count
    ("msk-1", "UTC+02:00"),
    ("MSK + 9", "UTC+12:00"),
    # old names of a zone are stored as today's
    ("Europe/Kiev", "Europe/Kyiv"),
    ("US/Eastern", "America/New_York"),
    ("asia/calcutta", "Asia/Kolkata"),
    ("Japan", "Asia/Tokyo"),
])
def test_zones_people_type(typed, zone):
    assert parse_zone(typed) == zone


@pytest.mark.parametrize("typed", [
    "", "   ", "Mars/Phobos", "UTC+15", "UTC-15", "UTC+14:30", "UTC+3:75", "UTC+3:5", "UTC+1:2:3", "UTC3",
    "localtime", "Factory", "Europe/", "eastern",  # eastern names two zones: US/ and Canada/Eastern
    "Мордор", "EST;", "<b>Berlin</b>", "MSK+12", "MSK+",
    "../../etc/passwd", "Europe/Minsk; DROP TABLE account",
])
def test_what_is_not_a_zone(typed):
    assert parse_zone(typed) is None


def test_common_zones_are_canonical_and_fit_in_callback_data():
    for zone in {*COMMON_ZONES, *(zone for zones in ZONES_BY_LANGUAGE.values() for zone in zones)}:
        assert parse_zone(zone) == zone and is_zone_name(zone)
        assert ":" not in zone and len(zone) < 50


@pytest.mark.parametrize("stored", ["Europe/Minsk", "UTC", "UTC+03:00", "UTC-14:00", "Etc/GMT+3", "EST", "CET",
                                    "Europe/Kiev"])
def test_every_name_parse_zone_ever_stored_stays_valid(stored):
    assert is_zone_name(stored)


@pytest.mark.parametrize("stored", ["europe/minsk", "UTC+3", "UTC+15:00", "UTC+03:75", "Mars/Phobos", "localtime",
                                    "MSK", "", "Europe/Minsk "])
def test_what_is_not_a_stored_zone_name(stored):
    assert not is_zone_name(stored)


@pytest.mark.parametrize(("zone", "language", "moment", "shown"), [
    ("Europe/Moscow", "en", WINTER, "Moscow (UTC+3)"),
    ("Europe/Moscow", "ru", WINTER, "Москва (UTC+3)"),
    ("Asia/Kolkata", "en", WINTER, "Kolkata (UTC+5:30)"),
    ("Asia/Kolkata", "ru", WINTER, "Калькутта (UTC+5:30)"),  # CLDR keeps the city under Asia/Calcutta
    ("Asia/Kathmandu", "en", SUMMER, "Kathmandu (UTC+5:45)"),
    ("America/New_York", "en", WINTER, "New York (UTC\u22125)"),
    ("America/New_York", "en", SUMMER, "New York (UTC\u22124)"),
    ("America/New_York", "ru", SUMMER, "Нью-Йорк (UTC\u22124)"),
    ("Europe/London", "en", WINTER, "London (UTC)"),
    ("Europe/London", "en", SUMMER, "London (UTC+1)"),
    ("Europe/Kiev", "ru", SUMMER, "Киев (UTC+3)"),
    ("America/Argentina/Buenos_Aires", "en", WINTER, "Buenos Aires (UTC\u22123)"),
    ("UTC", "en", WINTER, "UTC"),
    ("UTC", "ru", SUMMER, "UTC"),
    ("Etc/UTC", "en", WINTER, "UTC"),
    ("UTC+03:00", "en", WINTER, "UTC+3"),
    ("UTC-04:30", "ru", WINTER, "UTC\u22124:30"),
    ("Etc/GMT+3", "en", WINTER, "UTC\u22123"),  # POSIX sign: Etc/GMT+3 is three hours behind
    ("EST", "en", SUMMER, "EST (UTC\u22125)"),  # a zone that is no city keeps its name
    ("Europe/Moscow", "xx", WINTER, "Moscow (UTC+3)"),  # a language babel does not know: English
])
def test_zones_are_shown_by_city_and_offset(zone, language, moment, shown):
    assert zone_display(zone, language, moment) == shown


def test_a_tzinfo_is_shown_like_its_name():
    assert zone_display(zone_of("Asia/Tokyo"), "en", WINTER) == "Tokyo (UTC+9)"
    assert zone_display(zone_of("UTC+05:30"), "en", WINTER) == "UTC+5:30"


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
