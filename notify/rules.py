"""What a person may set, as they type it: in a bot command or in a field of the web's settings form.

Each rule is a plain function of the typed text that returns the value to store, or raises a `SettingProblem`
whose `text()` says what is wrong. The bot and the web call the same rules, so a value one refuses the other
refuses with the same words; each adds its own hints around them (the bot its command examples, "Nothing
changed."). The limits themselves are in notify.preferences, which also checks stored rows before planning.

`text()` is plain text, not HTML: escape it where it is shown. It is translated with aiogram's gettext, so a
language must be in force: the bot's update handling, or `notify.i18n.speaking(i18n, language)` on the web.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from difflib import get_close_matches

from aiogram.utils.i18n import gettext as _
from babel import Locale

from models.contest import title_key
from notify.formatting import span
from notify.i18n import language_name, ngettext
from notify.preferences import (
    DAY,
    HOUR,
    LONGEST_LIMIT,
    LONGEST_OFFSET,
    MAX_KEYWORD_LENGTH,
    MAX_KEYWORDS,
    MAX_OFFSETS,
    MINUTE,
    SHORTEST_LIMIT,
    SHORTEST_OFFSET,
    is_readable_text,
)
from notify.zones import parse_zone

#: the words that turn reminders, or one duration limit, off
OFF_WORDS = frozenset({"off", "none"})
#: the units of a typed length, in Latin and as the Russian texts write them ("1д 2ч 10м")
UNITS = {"m": MINUTE, "h": HOUR, "d": DAY, "м": MINUTE, "ч": HOUR, "д": DAY}
#: a message quotes at most this many characters of a typed value, and at most this many unknown names
SHOWN_LENGTH = 64
SHOWN_NAMES = 10

# at most 12 digits a number: longer ones are unreadable (and int() refuses numbers of thousands of digits)
_DURATION = re.compile(r"(?:\d{1,12}[mhdмчд])+", re.IGNORECASE)
_PART = re.compile(r"(\d+)([mhdмчд])", re.IGNORECASE)
#: between reminder times, and between site names
_WORD_SEPARATORS = re.compile(r"[\s,;]+")
#: between the keywords of a form field (a keyword itself may hold spaces)
_KEYWORD_SEPARATORS = re.compile(r"[,\r\n]")


def shortened(typed: str) -> str:
    """A typed value short enough to quote back."""
    return typed if len(typed) <= SHOWN_LENGTH else typed[:SHOWN_LENGTH - 1] + "…"


def quoted_names(names: Sequence[str]) -> str:
    """'“topcoder”, “kattis”' (the first few, each shortened), in the language's quotes («» in Russian)."""
    shown = ", ".join(_("“{keyword}”").format(keyword=shortened(name)) for name in names[:SHOWN_NAMES])
    return shown + (", …" if len(names) > SHOWN_NAMES else "")


class SettingProblem(ValueError):
    """A typed value that no setting takes; `text()` says why, in the language in force. `typed` is the value
    (or the part of it) that was refused."""

    def __init__(self, typed: str = "") -> None:
        super().__init__(typed)
        self.typed = typed

    def text(self) -> str:
        raise NotImplementedError


# reminder times


class MissingTimes(SettingProblem):
    def text(self) -> str:
        return _("Write when to remind, e.g. 1d 1h 10m, or off.")


class UnreadableTime(SettingProblem):
    def text(self) -> str:
        return _("I can't read “{token}”: write times like 10m, 3h, 1d or 1h30m.").format(token=shortened(self.typed))


class TimeOutOfRange(SettingProblem):
    def text(self) -> str:
        return _("“{token}” is out of range: a reminder can be 1 minute to 7 days before the start.").format(
            token=shortened(self.typed))


class TooManyReminders(SettingProblem):
    def text(self) -> str:
        return ngettext("That is too many: at most {n} reminder.", "That is too many: at most {n} reminders.",
                        MAX_OFFSETS).format(n=MAX_OFFSETS)


def duration_in_seconds(token: str) -> int | None:
    """Seconds in a length written with m, h and d units ("10m", "3h", "1d", "1h30m", or "1ч30м"); None when it is
    not one."""
    if not _DURATION.fullmatch(token):
        return None
    return sum(int(amount) * UNITS[unit.lower()] for amount, unit in _PART.findall(token))


def parse_offsets(text: str) -> list[int]:
    """Reminder offsets in seconds, largest first, duplicates collapsed: "1d 1h 10m" -> [86400, 3600, 600];
    "off" -> []. Each is 1 minute to 7 days before the start, at most 5 of them."""
    tokens = [token for token in _WORD_SEPARATORS.split(text.strip()) if token]
    if not tokens:
        raise MissingTimes()
    if len(tokens) == 1 and tokens[0].lower() in OFF_WORDS:
        return []
    offsets: set[int] = set()
    for token in tokens:
        seconds = duration_in_seconds(token)
        if seconds is None:
            raise UnreadableTime(token)
        if not SHORTEST_OFFSET <= seconds <= LONGEST_OFFSET:
            raise TimeOutOfRange(token)
        offsets.add(seconds)
        if len(offsets) > MAX_OFFSETS:
            raise TooManyReminders(token)
    return sorted(offsets, reverse=True)


# title keywords


class KeywordTooLong(SettingProblem):
    def text(self) -> str:
        return ngettext("A keyword can be at most {n} character long.", "A keyword can be at most {n} characters long.",
                        MAX_KEYWORD_LENGTH).format(n=MAX_KEYWORD_LENGTH)


class UnreadableKeyword(SettingProblem):
    def text(self) -> str:
        return _("A keyword cannot hold control characters; write it as plain text.")


class TooManyKeywords(SettingProblem):
    def text(self) -> str:
        return ngettext("That is too many: at most {n} keyword of each kind.",
                        "That is too many: at most {n} keywords of each kind.", MAX_KEYWORDS).format(n=MAX_KEYWORDS)


class KeywordWithoutLetters(SettingProblem):
    def text(self) -> str:
        return _("A keyword needs a letter or a digit: “{keyword}” has none.").format(keyword=shortened(self.typed))


def normalised_keyword(text: str) -> str:
    """The form keywords are kept and shown in: lower case, every run of spaces one space. They are matched (and
    told apart) by their title key (models.contest.title_key), so "div. 2" and "DIV-2" are one keyword."""
    return " ".join(text.split()).lower()


def parse_keyword(text: str) -> str:
    """One keyword: "  Div.  2 " -> "div. 2"; one with no letter or digit ("!!") would match every title."""
    keyword = normalised_keyword(text)
    if len(keyword) > MAX_KEYWORD_LENGTH:
        raise KeywordTooLong(keyword)
    if not is_readable_text(keyword):
        raise UnreadableKeyword(keyword)
    if not title_key(keyword):
        raise KeywordWithoutLetters(keyword)
    return keyword


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords separated by commas or new lines, as `/filter include` and the web's fields take them, each kept
    once (by its title key: "div 2" and "Div. 2" are one), at most 20 of them: "Div. 2, kotlin\\ndiv2" ->
    ("div. 2", "kotlin"); "" -> ()."""
    items = (item for item in _KEYWORD_SEPARATORS.split(text) if item.strip())
    by_key: dict[str, str] = {}
    for item in items:
        keyword = parse_keyword(item)
        by_key.setdefault(title_key(keyword), keyword)
    if len(by_key) > MAX_KEYWORDS:
        raise TooManyKeywords(text)
    return tuple(by_key.values())


def same_keyword(one: str, other: str) -> bool:
    """Whether two keywords match the same titles ("div. 2" and "div2")."""
    return title_key(one) == title_key(other)


def on_both_sides(include: Iterable[str], exclude: Iterable[str]) -> list[str]:
    """The keywords to hide that match like one to show ("div2" hidden, "div. 2" shown): a contradiction."""
    shown = {title_key(keyword) for keyword in include}
    return [keyword for keyword in exclude if title_key(keyword) in shown]


# duration limits


class UnreadableLimit(SettingProblem):
    def text(self) -> str:
        return _("I can't read “{token}”: write durations like 30m, 5h, 1d or 2h30m, or off.").format(
            token=shortened(self.typed))


class LimitOutOfRange(SettingProblem):
    def text(self) -> str:
        return _("“{token}” is out of range: a duration limit can be 1 minute to 60 days.").format(
            token=shortened(self.typed))


class MinAboveMax(SettingProblem):
    def __init__(self, shortest: int, longest: int) -> None:
        super().__init__(f"{shortest} > {longest}")
        self.shortest, self.longest = shortest, longest

    def text(self) -> str:
        return _("The minimum ({min}) would be longer than the maximum ({max}).").format(
            min=span(self.shortest), max=span(self.longest))


def parse_limit(text: str) -> int | None:
    """A duration limit in seconds: "5h", "2h 30m" -> seconds; "", "off" -> None (no limit)."""
    typed = " ".join(text.split())
    token = typed.replace(" ", "")
    if not token or token.lower() in OFF_WORDS:
        return None
    seconds = duration_in_seconds(token)
    if seconds is None:
        raise UnreadableLimit(typed)
    if not SHORTEST_LIMIT <= seconds <= LONGEST_LIMIT:
        raise LimitOutOfRange(typed)
    return seconds


def check_duration_limits(min_duration: int | None, max_duration: int | None) -> None:
    """MinAboveMax when both limits are set and the minimum is the longer one."""
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise MinAboveMax(min_duration, max_duration)


# time zone


class MissingZone(SettingProblem):
    def text(self) -> str:
        return _("Write a time zone: a name such as Europe/Berlin or an offset such as UTC+3.")


class UnknownZone(SettingProblem):
    def text(self) -> str:
        return _("Unknown time zone: {zone}. Use a name such as Europe/Berlin or an offset such as UTC+3.").format(
            zone=shortened(self.typed))


def parse_zone_setting(text: str) -> str:
    """The canonical name of a typed zone (notify.zones.parse_zone): "europe/minsk" -> "Europe/Minsk",
    "utc+3" -> "UTC+03:00"."""
    typed = text.strip()
    if not typed:
        raise MissingZone()
    zone = parse_zone(typed)
    if zone is None:
        raise UnknownZone(typed)
    return zone


# language


def listed_languages(codes: Iterable[str]) -> str:
    """'en (English), ru (Русский)'."""
    return ", ".join(f"{code} ({language_name(code)})" for code in codes)


class MissingLanguage(SettingProblem):
    def __init__(self, available: Sequence[str]) -> None:
        super().__init__()
        self.available = available

    def text(self) -> str:
        return _("Choose a language: {languages}.").format(languages=listed_languages(self.available))


class UnknownLanguage(SettingProblem):
    def __init__(self, typed: str, available: Sequence[str]) -> None:
        super().__init__(typed)
        self.available = available

    def text(self) -> str:
        return _("Unknown language: {language}. The languages are: {languages}.").format(
            language=shortened(self.typed), languages=listed_languages(self.available))


def parse_language(text: str, available: Sequence[str]) -> str:
    """The code of one of the `available` languages meant by `text`: a code ("ru", "RU", "ru-RU", "ru_RU"), the
    language's own name ("Русский") or its English name ("russian")."""
    typed = text.strip()
    if not typed:
        raise MissingLanguage(available)
    wanted = typed.lower()
    code = wanted.replace("_", "-").split("-")[0]
    if code in available:
        return code
    for candidate in available:
        locale = Locale.parse(candidate)
        names = {locale.get_display_name(candidate), locale.get_display_name("en")}
        if wanted in {name.lower() for name in names if name}:
            return candidate
    raise UnknownLanguage(typed, available)


# sites


class UnknownSites(SettingProblem):
    """Names that are no site's slug (`names`, as typed); `known` are the slugs there are. With dozens of sites the
    text names only the few slugs that look like what was typed: each interface says where the whole list is."""

    def __init__(self, names: list[str], known: Collection[str]) -> None:
        super().__init__(", ".join(names))
        self.names, self.known = names, known

    def text(self) -> str:
        text = _("Not a site: {names}.").format(names=quoted_names(self.names))
        similar = similar_sites(self.names, self.known)
        if similar:
            text += " " + _("Did you mean {sites}?").format(sites=", ".join(similar))
        return text


def similar_sites(names: Iterable[str], known: Collection[str], most: int = 3) -> list[str]:
    """Known slugs that look like the typed names (a typo, a missing dash), at most `most` of them."""
    found: dict[str, None] = {}
    for name in names:
        found.update(dict.fromkeys(get_close_matches(name.lower()[:SHOWN_LENGTH], sorted(known), n=most, cutoff=0.82)))
    return list(found)[:most]


def parse_site_list(typed: str | Iterable[str], known: Collection[str]) -> list[str]:
    """Site slugs, as typed ("AtCoder, leetcode") or as a form's list of values, lower-cased, in the order given,
    duplicates dropped: ["atcoder", "leetcode"]. Nothing typed is an empty list; any name that is not in `known`
    raises UnknownSites naming every such one."""
    items = [typed] if isinstance(typed, str) else list(typed)
    names = [name for item in items for name in _WORD_SEPARATORS.split(item.strip()) if name]
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise UnknownSites(unknown, known)
    return list(dict.fromkeys(name.lower() for name in names))
