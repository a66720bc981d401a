"""Time zones as people type them: IANA names ("Europe/Minsk", any case, or just the city: "minsk",
"new york") or fixed offsets from UTC ("UTC+3", "UTC-04:30", from UTC-14 to UTC+14)."""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
#: minus signs and dashes people paste instead of "-"
_MINUSES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
#: names in the zone database that are not places (and "localtime" depends on the machine)
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})

#: offered as buttons by /timezone
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Europe/Minsk", "Asia/Kolkata",
    "Asia/Shanghai", "Asia/Tokyo", "America/New_York", "America/Los_Angeles",
)


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() if name not in _NOT_PLACES}


@cache
def _zones_by_city() -> dict[str, str]:
    """'minsk' -> 'Europe/Minsk' for the cities that name exactly one zone ('istanbul' names two)."""
    cities: dict[str, set[str]] = {}
    for name in _zones_by_lower_name().values():
        if "/" in name and not name.startswith("Etc/"):
            cities.setdefault(name.rsplit("/", 1)[1].lower(), set()).add(name)
    return {city: names.pop() for city, names in cities.items() if len(names) == 1}


def parse_zone(text: str) -> str | None:
    """The canonical name of a zone typed by a person ("europe/minsk" -> "Europe/Minsk", "utc+3" ->
    "UTC+03:00", "new york" -> "America/New_York"), or None when it is not one."""
    text = text.strip().translate(_MINUSES)
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes or 0) >= 60 or (int(hours) == 14 and int(minutes or 0)):
            return None
        return f"UTC{sign}{int(hours):02d}:{minutes or '00'}"
    key = re.sub(r"\s+", "_", text.lower())
    return _zones_by_lower_name().get(key) or _zones_by_city().get(key)


def zone_of(name: str) -> tzinfo:
    """The tzinfo for a stored zone name (canonical form from parse_zone); UTC when it is unknown."""
    match = _OFFSET.match(name)
    if match and name != "UTC":
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-offset if sign == "-" else offset, name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
