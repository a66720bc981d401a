"""Time zones as people type them: IANA names ("Europe/Minsk") or fixed offsets ("UTC+3", "UTC-04:30")."""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

#: offered as buttons by /timezone
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Europe/Minsk", "Asia/Kolkata",
    "Asia/Shanghai", "Asia/Tokyo", "America/New_York", "America/Los_Angeles",
)


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> str | None:
    """The canonical name of a zone typed by a person ("europe/minsk" -> "Europe/Minsk", "utc+3" ->
    "UTC+03:00"), or None when it is not one."""
    text = text.strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes or 0) >= 60 or (int(hours) == 14 and int(minutes or 0)):
            return None
        return f"UTC{sign}{int(hours):02d}:{minutes or '00'}"
    return _zones_by_lower_name().get(text.lower())


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
