"""The rules the bot and the web share (notify.rules): what each accepts and refuses, the words of each refusal
(no bot command in them, so a web form can show them too), that the bot sends the very same words for the same
value, and the Russian of a few of them."""

from __future__ import annotations

import re
from html import unescape

import pytest

from bot.filters import Filters, change_filters
from fetchers.registry import all_sites
from notify.i18n import languages, make_i18n, speaking
from notify.rules import (
    KeywordTooLong,
    LimitOutOfRange,
    MinAboveMax,
    MissingLanguage,
    MissingTimes,
    MissingZone,
    SettingProblem,
    TimeOutOfRange,
    TooManyKeywords,
    TooManyReminders,
    UnknownLanguage,
    UnknownSites,
    UnknownZone,
    UnreadableKeyword,
    UnreadableLimit,
    UnreadableTime,
    check_duration_limits,
    listed_languages,
    parse_keywords,
    parse_language,
    parse_limit,
    parse_offsets,
    parse_site_list,
    parse_zone_setting,
)
from tests.bot import conftest as bot_harness
from tests.bot.updates import USER_ID, private_message

telegram = bot_harness.telegram  # the real bot behind its webhook (tests/bot's fixture)

MINUTE, HOUR, DAY = 60, 3600, 86400
I18N = make_i18n()
SPOKEN = ["en", "ru"]
KNOWN_SITES = ("atcoder", "codeforces", "codeforces-gym", "leetcode")


def rendered(problem: SettingProblem, language: str) -> str:
    with speaking(I18N, language):
        return problem.text()


def refusal(parse, *args) -> SettingProblem:
    with pytest.raises(SettingProblem) as caught:
        parse(*args)
    return caught.value


# reminder offsets


@pytest.mark.parametrize(("text", "offsets"), [
    ("1d 1h 10m", [DAY, HOUR, 10 * MINUTE]),
    ("10m 1d 1h", [DAY, HOUR, 10 * MINUTE]),
    ("1h30m", [HOUR + 30 * MINUTE]),
    ("1D12H, 2h", [DAY + 12 * HOUR, 2 * HOUR]),
    ("10m 10m 600m 10h", [10 * HOUR, 10 * MINUTE]),
    ("1m 7d", [7 * DAY, MINUTE]),
    ("1h 1h 1h 1h 1h 1h 2h 3h 4h 5h", [5 * HOUR, 4 * HOUR, 3 * HOUR, 2 * HOUR, HOUR]),
    ("1d\n1h;10m", [DAY, HOUR, 10 * MINUTE]),
    ("off", []),
    (" OFF ", []),
    ("none", []),
])
def test_offsets_accepted(text, offsets):
    assert parse_offsets(text) == offsets


@pytest.mark.parametrize(("text", "problem", "typed"), [
    ("5x", UnreadableTime, "5x"),
    ("1d 1hour", UnreadableTime, "1hour"),
    ("1.5h", UnreadableTime, "1.5h"),
    ("-1h", UnreadableTime, "-1h"),
    ("30s", UnreadableTime, "30s"),
    ("h", UnreadableTime, "h"),
    ("1h off", UnreadableTime, "off"),
    ("9" * 5000 + "m", UnreadableTime, "9" * 5000 + "m"),  # too many digits to be a number at all
    ("", MissingTimes, ""),
    (" ,; ", MissingTimes, ""),
    ("0m", TimeOutOfRange, "0m"),
    ("1d 8d", TimeOutOfRange, "8d"),
    ("7d1m", TimeOutOfRange, "7d1m"),
    ("999999999999d", TimeOutOfRange, "999999999999d"),
    ("1m 2m 3m 4m 5m 6m", TooManyReminders, "6m"),
])
def test_offsets_refused(text, problem, typed):
    refused = refusal(parse_offsets, text)
    assert type(refused) is problem and isinstance(refused, ValueError)
    assert refused.typed == typed


# keywords


@pytest.mark.parametrize(("text", "keywords"), [
    ("", ()),
    (" \n , \r\n", ()),
    ("Div. 2", ("div. 2",)),
    ("  Div.   2 , kotlin\ndiv. 2", ("div. 2", "kotlin")),
    ("educational\r\nKotlin Heroes,", ("educational", "kotlin heroes")),
    ("x" * 50, ("x" * 50,)),
    ("Ёлка, «раунд»", ("ёлка", "«раунд»")),
    (", ".join(f"w{i}" for i in range(20)), tuple(f"w{i}" for i in range(20))),
    ("\n".join(f"W{i % 20}" for i in range(40)), tuple(f"w{i}" for i in range(20))),  # duplicates don't count
])
def test_keywords_accepted(text, keywords):
    assert parse_keywords(text) == keywords


@pytest.mark.parametrize(("text", "problem"), [
    ("x" * 51, KeywordTooLong),
    ("div. 2, " + "x" * 51, KeywordTooLong),
    ("div\x07", UnreadableKeyword),
    ("fine, bad\x00", UnreadableKeyword),
    ("\ud800", UnreadableKeyword),
    (", ".join(f"w{i}" for i in range(21)), TooManyKeywords),
])
def test_keywords_refused(text, problem):
    assert type(refusal(parse_keywords, text)) is problem


@pytest.mark.parametrize("phrase", ["  Div.   2 ", "KOTLIN", "x" * 50, "x" * 51, "div\x07", "«раунд»"])
def test_a_keyword_field_takes_each_keyword_as_filter_include_does(phrase):
    try:
        expected = parse_keywords(phrase)
    except SettingProblem as problem:
        with pytest.raises(type(problem)):
            change_filters(Filters(), f"include {phrase}")
    else:
        assert change_filters(Filters(), f"include {phrase}").include == expected


# duration limits


@pytest.mark.parametrize(("text", "seconds"), [
    ("5h", 5 * HOUR),
    ("2h 30m", 2 * HOUR + 30 * MINUTE),
    ("1D", DAY),
    ("1m", MINUTE),
    ("60d", 60 * DAY),
    ("", None),
    ("  ", None),
    ("off", None),
    (" OFF ", None),
    ("none", None),
])
def test_limits_accepted(text, seconds):
    assert parse_limit(text) == seconds


@pytest.mark.parametrize(("text", "problem", "typed"), [
    ("5x", UnreadableLimit, "5x"),
    ("-1h", UnreadableLimit, "-1h"),
    ("1.5h", UnreadableLimit, "1.5h"),
    ("2h   30x", UnreadableLimit, "2h 30x"),
    ("off 1h", UnreadableLimit, "off 1h"),
    ("9" * 5000 + "m", UnreadableLimit, "9" * 5000 + "m"),
    ("0m", LimitOutOfRange, "0m"),
    ("61d", LimitOutOfRange, "61d"),
    ("60d 1m", LimitOutOfRange, "60d 1m"),
])
def test_limits_refused(text, problem, typed):
    refused = refusal(parse_limit, text)
    assert (type(refused), refused.typed) == (problem, typed)


@pytest.mark.parametrize(("shortest", "longest"), [(None, None), (HOUR, None), (None, HOUR), (HOUR, HOUR),
                                                    (HOUR, DAY)])
def test_limits_in_order(shortest, longest):
    check_duration_limits(shortest, longest)


def test_a_minimum_above_the_maximum_is_refused():
    refused = refusal(check_duration_limits, 6 * HOUR, 5 * HOUR)
    assert type(refused) is MinAboveMax and (refused.shortest, refused.longest) == (6 * HOUR, 5 * HOUR)


# time zone


@pytest.mark.parametrize(("text", "zone"), [
    ("Europe/Minsk", "Europe/Minsk"),
    ("europe/minsk", "Europe/Minsk"),
    ("  new york ", "America/New_York"),
    ("UTC", "UTC"),
    ("utc+3", "UTC+03:00"),
    ("UTC-04:30", "UTC-04:30"),
])
def test_zones_accepted(text, zone):
    assert parse_zone_setting(text) == zone


@pytest.mark.parametrize(("text", "problem"), [
    ("", MissingZone),
    ("   ", MissingZone),
    ("Mars/Olympus", UnknownZone),
    ("UTC+15", UnknownZone),
    ("eastern", UnknownZone),  # US/Eastern or Canada/Eastern
    ("<b>Berlin</b>", UnknownZone),
])
def test_zones_refused(text, problem):
    assert type(refusal(parse_zone_setting, text)) is problem


# language


@pytest.mark.parametrize(("text", "code"), [
    ("ru", "ru"), ("RU", "ru"), (" en ", "en"), ("ru-RU", "ru"), ("en_GB", "en"),
    ("Русский", "ru"), ("русский", "ru"), ("Russian", "ru"), ("english", "en"),
])
def test_languages_accepted(text, code):
    assert parse_language(text, SPOKEN) == code


@pytest.mark.parametrize(("text", "problem"), [
    ("", MissingLanguage), ("  ", MissingLanguage), ("de", UnknownLanguage), ("Deutsch", UnknownLanguage),
    ("klingon", UnknownLanguage), ("r", UnknownLanguage), ("ru ru", UnknownLanguage), ("<b>", UnknownLanguage),
])
def test_languages_refused(text, problem):
    assert type(refusal(parse_language, text, SPOKEN)) is problem


def test_a_new_catalog_is_a_new_language():
    assert parse_language("Deutsch", ["de", *SPOKEN]) == "de"
    assert listed_languages(["de", *SPOKEN]) == "de (Deutsch), en (English), ru (Русский)"


# sites


@pytest.mark.parametrize(("typed", "slugs"), [
    ("AtCoder, LEETCODE  atcoder", ["atcoder", "leetcode"]),
    ("codeforces-gym;codeforces\n", ["codeforces-gym", "codeforces"]),
    ("", []),
    (" , ", []),
    (["leetcode", "AtCoder", "leetcode"], ["leetcode", "atcoder"]),
    ([], []),
])
def test_sites_accepted(typed, slugs):
    assert parse_site_list(typed, KNOWN_SITES) == slugs


@pytest.mark.parametrize(("typed", "unknown"), [
    ("atcoder topcoder Codeforces kattis", ["topcoder", "kattis"]),
    (["atcoder", "Kattis"], ["Kattis"]),
    ("luogu", ["luogu"]),  # a site, but not one of those known here
])
def test_sites_refused(typed, unknown):
    refused = refusal(parse_site_list, typed, KNOWN_SITES)
    assert type(refused) is UnknownSites and refused.names == unknown


# the words of each refusal

REFUSALS = [
    (MissingTimes(), "Write when to remind, e.g. 1d 1h 10m, or off."),
    (UnreadableTime("5x"), "I can't read “5x”: write times like 10m, 3h, 1d or 1h30m."),
    (TimeOutOfRange("8d"), "“8d” is out of range: a reminder can be 1 minute to 7 days before the start."),
    (TooManyReminders("6m"), "That is too many: at most 5 reminders."),
    (KeywordTooLong("x" * 51), "A keyword can be at most 50 characters long."),
    (UnreadableKeyword("a\x07"), "A keyword cannot hold control characters; write it as plain text."),
    (TooManyKeywords(), "That is too many: at most 20 keywords of each kind."),
    (UnreadableLimit("5x"), "I can't read “5x”: write durations like 30m, 5h, 1d or 2h30m, or off."),
    (LimitOutOfRange("0m"), "“0m” is out of range: a duration limit can be 1 minute to 60 days."),
    (MinAboveMax(6 * HOUR, 5 * HOUR), "The minimum (6 h) would be longer than the maximum (5 h)."),
    (MissingZone(), "Write a time zone: a name such as Europe/Berlin or an offset such as UTC+3."),
    (UnknownZone("Mars/Olympus"),
     "Unknown time zone: Mars/Olympus. Use a name such as Europe/Berlin or an offset such as UTC+3."),
    (MissingLanguage(SPOKEN), "Choose a language: en (English), ru (Русский)."),
    (UnknownLanguage("klingon", SPOKEN), "Unknown language: klingon. The languages are: en (English), ru (Русский)."),
    (UnknownSites(["topcoder", "<b>"], ["leetcode", "atcoder"]), "Not a site: “topcoder”, “<b>”."),
    (UnknownSites(["atcodr"], ["leetcode", "atcoder"]), "Not a site: “atcodr”. Did you mean atcoder?"),
]


@pytest.mark.parametrize(("problem", "english"), REFUSALS)
def test_each_refusal_says_what_is_wrong_without_naming_a_command(problem, english):
    assert rendered(problem, "en") == english
    for language in languages(I18N):
        assert not re.search(r"(?:^|\s)/[a-z]", rendered(problem, language)), language


def test_what_was_typed_is_quoted_plain_and_short():
    said = rendered(UnknownZone("<b>" + "x" * 100), "en")
    assert "<b>" + "x" * 60 + "…" in said and "x" * 62 not in said  # plain: whoever shows it escapes it
    names = rendered(UnknownSites([f"s{i}" for i in range(30)], KNOWN_SITES), "en")
    assert "“s9”, …" in names and "s10" not in names


def test_russian():
    assert rendered(UnreadableTime("5x"), "ru") == "Не понимаю «5x»: пишите время так: 10м, 3ч, 1д или 1ч30м."
    assert rendered(UnknownZone("Mars/Olympus"), "ru") == (
        "Неизвестный часовой пояс: Mars/Olympus. Укажите название вроде Europe/Moscow или смещение вроде UTC+3.")
    assert rendered(UnknownLanguage("klingon", SPOKEN), "ru") == (
        "Неизвестный язык: klingon. Есть такие: en (English), ru (Русский).")
    assert rendered(MinAboveMax(6 * HOUR, 5 * HOUR), "ru") == "Минимум (6ч) получился бы больше максимума (5ч)."


# the bot says the same

SENT_TO_THE_BOT = [
    ("/remind 5x", UnreadableTime("5x")),
    ("/remind 1h 8d", TimeOutOfRange("8d")),
    ("/filter max 0m", LimitOutOfRange("0m")),
    ("/filter min 2h 30x", UnreadableLimit("2h 30x")),
    ("/filter include " + "x" * 51, KeywordTooLong("x" * 51)),
    ("/timezone Mars/Olympus", UnknownZone("Mars/Olympus")),
    ("/timezone <b>Mars</b>", UnknownZone("<b>Mars</b>")),
    ("/language klingon", UnknownLanguage("klingon", SPOKEN)),
    ("/subscribe atcoder nosuchjudge", UnknownSites(["nosuchjudge"], all_sites())),
]


async def test_the_bot_refuses_with_the_same_words(telegram):
    cases = [(language, *case) for language in ("en", "ru") for case in SENT_TO_THE_BOT]
    for chat_id, (language, command, problem) in enumerate(cases, start=USER_ID):  # a new chat each: no flood limit
        reply = await telegram.reply_to(private_message(command, user_id=chat_id, language_code=language))
        shown = unescape(reply.text)  # what the person reads: the bot sends HTML
        assert shown.startswith(rendered(problem, language) + "\n"), (language, command, shown)
