"""Time zones as people type them and as they are shown to people.

Typed: IANA names ("Europe/Minsk", any case), a city in any language the bot speaks ("minsk", "new york",
"Москва", "токио"), a common abbreviation ("MSK", "EST") or a fixed offset from UTC ("UTC+3", "GMT-5",
"UTC-04:30", from UTC-14 to UTC+14; "MSK+4" as Russians count). Shown: the city in the person's language
and the offset in force, "Moscow (UTC+3)", "Москва (UTC+3)", "Kolkata (UTC+5:30)"; "UTC" alone.

Abbreviations name the region people mean by them, daylight saving time included: EST/EDT -> New York (not
the fixed UTC-5 zone "EST" of the database), PST/PDT -> Los Angeles, CET/CEST -> Berlin. Ambiguous ones take
the meaning most of our users have in mind: IST is India (not Israel or Ireland), CST is US Central (not
China: "Shanghai" or "UTC+8" names that one), BST is British Summer Time (not Bangladesh: "Dhaka").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from notify.i18n import spoken_languages

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
#: Russia counts its zones from Moscow's: "MSK+4" is UTC+7 (Moscow is UTC+3, with no daylight saving)
_MOSCOW_OFFSET = re.compile(r"^(?:MSK|МСК)\s*([+-])\s*(\d{1,2})$", re.IGNORECASE)
MOSCOW_HOURS = 3
#: the stored form of a fixed offset, as `parse_zone` writes it
_STORED_OFFSET = re.compile(r"^UTC[+-](\d{2}):(\d{2})$")
#: minus signs and dashes people paste instead of "-"
_MINUSES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
#: what a typed city may differ in: case, spaces, dashes, dots, apostrophes, "ё"
_CITY_NOISE = re.compile(r"[\s_\-.'’]+")
#: names in the zone database that are not places (and "localtime" depends on the machine)
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
#: names in the zone database that are UTC itself
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
                        "GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0", "Etc/GMT-0",
                        "Greenwich", "Etc/Greenwich"})

#: abbreviations and names that are no zone's city (keys as `_city_key` makes them); see the module's doc
ALIASES = {
    "msk": "Europe/Moscow", "мск": "Europe/Moscow",
    "saintpetersburg": "Europe/Moscow", "stpetersburg": "Europe/Moscow", "petersburg": "Europe/Moscow",
    "санктпетербург": "Europe/Moscow", "петербург": "Europe/Moscow", "питер": "Europe/Moscow",
    "спб": "Europe/Moscow",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "wet": "Europe/Lisbon", "west": "Europe/Lisbon", "bst": "Europe/London",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "eet": "Europe/Athens", "eest": "Europe/Athens",
    "ist": "Asia/Kolkata", "pkt": "Asia/Karachi", "jst": "Asia/Tokyo", "kst": "Asia/Seoul",
    "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
    "beijing": "Asia/Shanghai", "пекин": "Asia/Shanghai", "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata",
    "delhi": "Asia/Kolkata", "newdelhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "дели": "Asia/Kolkata",
    "astana": "Asia/Almaty", "астана": "Asia/Almaty", "sanfrancisco": "America/Los_Angeles",
}

#: offered as buttons by /timezone and the web settings: zones of the people who speak a language, then UTC
ZONES_BY_LANGUAGE = {
    "ru": ("Europe/Moscow", "Europe/Kyiv", "Europe/Minsk", "Asia/Almaty", "Asia/Tashkent", "Europe/Samara",
           "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok", "UTC"),
}
COMMON_ZONES = (
    "Europe/London", "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Los_Angeles",
    "America/Sao_Paulo", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo", "UTC",
)


def common_zones(language: str) -> tuple[str, ...]:
    """The zones worth a button for people who speak `language`."""
    return ZONES_BY_LANGUAGE.get(language, COMMON_ZONES)


def _city_key(text: str) -> str:
    return _CITY_NOISE.sub("", text.casefold().replace("ё", "е"))


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones() if name not in _NOT_PLACES}


def _current_name(name: str) -> str:
    """The zone's name today ("Europe/Kiev" -> "Europe/Kyiv", "Asia/Calcutta" -> "Asia/Kolkata")."""
    return get_global("zone_aliases").get(name, name)


@cache
def _older_names() -> dict[str, tuple[str, ...]]:
    """Each zone's older names: CLDR keeps some cities under them ("Asia/Calcutta" for Asia/Kolkata)."""
    older: dict[str, list[str]] = {}
    for old, current in get_global("zone_aliases").items():
        older.setdefault(current, []).append(old)
    return {current: tuple(names) for current, names in older.items()}


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


@cache
def city_name(name: str, language: str) -> str | None:
    """The zone's city in a language ("Europe/Moscow", "ru" -> "Москва"), from CLDR when it has one, else from
    the name itself ("America/Argentina/Buenos_Aires" -> "Buenos Aires"); None for a zone that is no place."""
    if "/" not in name or name.startswith("Etc/"):
        return None
    current = _current_name(name)
    for key in (current, name, *_older_names().get(current, ())):
        city = _locale(language).time_zones.get(key, {}).get("city")
        if city:
            return city
    return current.rsplit("/", 1)[1].replace("_", " ")


@cache
def _zones_by_city() -> dict[str, str]:
    """'minsk', 'минск' -> 'Europe/Minsk' for the cities that name exactly one zone ('istanbul' names two),
    in every language the bot speaks."""
    cities: dict[str, set[str]] = {}
    for name in _zones_by_lower_name().values():
        if "/" not in name or name.startswith("Etc/"):
            continue
        current = _current_name(name)
        names = {name.rsplit("/", 1)[1]} | {city_name(current, language) or "" for language in spoken_languages()}
        for city in names - {""}:
            cities.setdefault(_city_key(city), set()).add(current)
    return {city: zones.pop() for city, zones in cities.items() if len(zones) == 1}


def parse_zone(text: str) -> str | None:
    """The canonical name of a zone typed by a person ("europe/minsk" -> "Europe/Minsk", "utc+3" ->
    "UTC+03:00", "new york" -> "America/New_York", "MSK" -> "Europe/Moscow"; an old name as today's:
    "US/Eastern" -> "America/New_York"), or None when it is not one."""
    text = text.strip().translate(_MINUSES)
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    from_moscow = _MOSCOW_OFFSET.match(text)
    if from_moscow:
        sign, hours = from_moscow.groups()
        return parse_zone(f"UTC{MOSCOW_HOURS + int(hours) * (-1 if sign == '-' else 1):+d}")
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes or 0) >= 60 or (int(hours) == 14 and int(minutes or 0)):
            return None
        return f"UTC{sign}{int(hours):02d}:{minutes or '00'}"
    city = _city_key(text)
    named = _zones_by_lower_name().get(re.sub(r"\s+", "_", text.lower()))
    return ALIASES.get(city) or (_current_name(named) if named else None) or _zones_by_city().get(city)


def is_zone_name(name: str) -> bool:
    """Whether a stored zone name is one `parse_zone` may have written (a fixed offset in range or a zone
    of the database): what a stored setting or a button's data must be."""
    match = _STORED_OFFSET.match(name)
    if match:
        return parse_zone(name) == name
    return _zones_by_lower_name().get(name.lower()) == name


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


def utc_offset(zone: tzinfo, moment: datetime) -> str:
    """The zone's offset at a moment as people write it: "UTC+3", "UTC\u22124" (a minus sign), "UTC+5:30",
    "UTC" (London in winter)."""
    offset = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).utcoffset()
    minutes = round((offset or timedelta()).total_seconds() / 60)
    if not minutes:
        return "UTC"
    sign = "\u2212" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _name_of(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def zone_display(zone: str | tzinfo, language: str, now: datetime) -> str:
    """A zone as named to a person: its city in their language and the offset in force at `now` (an aware
    moment): "Moscow (UTC+3)", "Москва (UTC+3)", "New York (UTC\u22125)" in January, "Kolkata (UTC+5:30)".
    UTC is "UTC", a fixed offset is the offset alone ("UTC+3"), a zone that is no city keeps its name."""
    tz = zone_of(zone) if isinstance(zone, str) else zone
    name = zone if isinstance(zone, str) else _name_of(zone)
    if name in _UTC_NAMES:
        return "UTC"
    offset = utc_offset(tz, now)
    if _OFFSET.match(name) or name.startswith("Etc/"):
        return offset
    return f"{city_name(name, language) or name} ({offset})"
