"""What an account's settings may be: the limits the bot and the web enforce when a person sets them (the rules
for typed values are in notify.rules), and the same limits applied to a stored row before it is planned. A row
that breaks them (written by an older version, by hand, or by a forged request that got past a check) cannot be
planned: planning skips that one account and says why, and everyone else is reminded as usual.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notify.i18n import DEFAULT_LANGUAGE, spoken_languages
from notify.zones import is_zone_name

MINUTE, HOUR, DAY = 60, 3600, 86400
#: reminders go out 1 minute to 7 days before a start, at most 5 of them
SHORTEST_OFFSET, LONGEST_OFFSET = MINUTE, 7 * DAY
MAX_OFFSETS = 5
#: title keywords: at most 20 on each side, each at most 50 characters
MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 50
#: duration limits: 1 minute to 60 days
SHORTEST_LIMIT, LONGEST_LIMIT = MINUTE, 60 * DAY
#: the account columns planning reads (raw: a broken JSON value must not stop the query for everyone)
COLUMNS = ("id", "timezone", "language", "sites", "include_keywords", "exclude_keywords", "min_duration",
           "max_duration", "reminder_offsets")


_UNREADABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadPreferences(ValueError):
    """A stored setting outside what the bot accepts; the message names the setting and the problem."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """An account's settings as planning uses them, every one within the limits above."""

    account_id: int
    timezone: str
    language: str
    sites: tuple[str, ...] | None  # None: the popular set
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    min_duration: int | None
    max_duration: int | None
    offsets: tuple[int, ...]


def is_readable_text(text: str) -> bool:
    """No control characters (NUL among them: PostgreSQL refuses it) and no lone surrogates (not Unicode)."""
    return _UNREADABLE.search(text) is None


def is_storable_text(text: str) -> bool:
    """Text any database takes (line breaks and tabs allowed): no NUL, no lone surrogates."""
    return _UNSTORABLE.search(text) is None


def read_preferences(row: Mapping[str, Any]) -> Preferences:
    """Check a raw `account` row (the `COLUMNS`, JSON still as the database returns it)."""
    timezone = row["timezone"]
    if not isinstance(timezone, str) or not is_zone_name(timezone):
        raise BadPreferences(f"unknown time zone {str(timezone)[:64]!r}")
    language = row["language"] if row["language"] in spoken_languages() else DEFAULT_LANGUAGE
    sites = decoded(row, "sites")
    return Preferences(
        account_id=row["id"], timezone=timezone, language=language,
        sites=None if sites is None else texts(sites, "sites", most=1000, longest=40),
        include=texts(decoded(row, "include_keywords"), "include_keywords"),
        exclude=texts(decoded(row, "exclude_keywords"), "exclude_keywords"),
        min_duration=duration_limit(row["min_duration"], "min_duration"),
        max_duration=duration_limit(row["max_duration"], "max_duration"),
        offsets=reminder_offsets(decoded(row, "reminder_offsets")),
    )


def decoded(row: Mapping[str, Any], column: str) -> Any:
    value = row[column]
    if not isinstance(value, str | bytes):
        return value
    try:
        return json.loads(value)
    except ValueError:  # broken JSON, or a number too long to read
        raise BadPreferences(f"{column} is not JSON") from None


def texts(value: Any, column: str, most: int = MAX_KEYWORDS, longest: int = MAX_KEYWORD_LENGTH) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > most:
        raise BadPreferences(f"{column} is not a list of at most {most} texts")
    if not all(isinstance(item, str) and 0 < len(item) <= longest and is_readable_text(item) for item in value):
        raise BadPreferences(f"{column} holds something that is not a text of 1 to {longest} readable characters")
    return tuple(value)


def is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def duration_limit(value: Any, column: str) -> int | None:
    if value is None:
        return None
    if not is_whole_number(value) or not SHORTEST_LIMIT <= value <= LONGEST_LIMIT:
        raise BadPreferences(f"{column} is not a number of seconds from {SHORTEST_LIMIT} to {LONGEST_LIMIT}")
    return value


def reminder_offsets(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_OFFSETS:
        raise BadPreferences(f"reminder_offsets is not a list of at most {MAX_OFFSETS} numbers")
    if not all(is_whole_number(item) and SHORTEST_OFFSET <= item <= LONGEST_OFFSET for item in value):
        raise BadPreferences(f"reminder_offsets holds something outside {SHORTEST_OFFSET} to {LONGEST_OFFSET} s")
    return tuple(sorted(set(value), reverse=True))
