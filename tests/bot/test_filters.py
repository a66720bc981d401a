"""/filter: keywords and duration limits, the rules, the buttons, group admin checks, and that /upcoming's
selection honours them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.filters import FilterDrop, Filters, NotAFilterCommand, NotAKeyword, change_filters, dropped, keyword_key
from bot.screens import OpenSection
from models.account import Account
from models.contest import Contest
from models.selection import ContestFilter, upcoming
from notify.rules import (
    KeywordTooLong,
    KeywordWithoutLetters,
    LimitOutOfRange,
    MinAboveMax,
    TooManyKeywords,
    UnreadableLimit,
    on_both_sides,
)
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message

HOUR, MINUTE = 3600, 60


def test_keywords_are_one_lower_case_phrase_each_and_switch_sides():
    filters = change_filters(Filters(), "include  Div.   2 ")
    assert filters.include == ("div. 2",)
    filters = change_filters(filters, "EXCLUDE Kotlin")
    assert change_filters(filters, "exclude kotlin") == filters
    filters = change_filters(filters, "include kotlin")
    assert (filters.include, filters.exclude) == (("div. 2", "kotlin"), ())
    assert change_filters(filters, "remove DIV. 2").include == ("kotlin",)
    assert change_filters(filters, "clear") == Filters()


def test_durations_and_their_order():
    filters = change_filters(Filters(), "max 5h")
    filters = change_filters(filters, "min 1h 30m")
    assert (filters.min_duration, filters.max_duration) == (90 * MINUTE, 5 * HOUR)
    assert change_filters(filters, "max off").max_duration is None
    assert change_filters(filters, "min OFF").min_duration is None
    with pytest.raises(MinAboveMax):
        change_filters(filters, "min 6h")
    with pytest.raises(MinAboveMax):
        change_filters(filters, "max 1h")


@pytest.mark.parametrize(("args", "problem"), [
    ("", NotAFilterCommand), ("sort by date", NotAFilterCommand), ("include", NotAFilterCommand),
    ("max", NotAFilterCommand), ("clear all", NotAFilterCommand), ("include " + "x" * 51, KeywordTooLong),
    ("remove java", NotAKeyword), ("max 5x", UnreadableLimit), ("min 0m", LimitOutOfRange),
    ("max 61d", LimitOutOfRange), ("max -1h", UnreadableLimit), ("include !!", KeywordWithoutLetters),
    ("exclude div 2, —", KeywordWithoutLetters), ("include , ,", NotAFilterCommand), ("remove , ", NotAFilterCommand),
])
def test_bad_changes_are_refused(args, problem):
    with pytest.raises(problem):
        change_filters(Filters(exclude=("kotlin",)), args)


def test_at_most_twenty_keywords_each():
    full = Filters(include=tuple(f"w{i}" for i in range(20)))
    with pytest.raises(TooManyKeywords):
        change_filters(full, "include w20")
    assert change_filters(full, "include w3") == full
    assert len(change_filters(full, "exclude w20").exclude) == 1
    assert len(change_filters(Filters(), "include " + "x" * 50).include[0]) == 50


def test_dropped_by_button():
    filters = Filters(include=("div. 2", "abc"), exclude=("kotlin",), min_duration=600)
    drop = FilterDrop(what="include", key=keyword_key("abc"))
    assert dropped(filters, drop).include == ("div. 2",)
    assert dropped(dropped(filters, drop), drop) is None
    assert dropped(filters, FilterDrop(what="min")).min_duration is None
    assert dropped(filters, FilterDrop(what="max")) is None
    assert dropped(filters, FilterDrop(what="all")) == Filters()
    assert len(FilterDrop(what="exclude", key=keyword_key("x" * 50)).pack()) <= 64


async def filters_of(chat_id: int) -> Filters:
    return Filters.of(await Account.get(telegram_chats__chat_id=chat_id))


async def test_filter_without_arguments_shows_the_settings(telegram):
    reply = await telegram.reply_to(private_message("/filter"))
    assert "Only titles with: (any title)" in reply.text
    assert "Hidden when the title has: (nothing)" in reply.text
    assert "Duration: any" in reply.text and "/filter include div 2, educational" in reply.text
    assert "match" not in reply.text  # no filters and no contests: nothing to count, nothing to warn of
    assert reply.buttons() == []


async def test_filter_commands_change_and_show_the_settings(telegram):
    await telegram.reply_to(private_message("/filter include Div. 2"))
    await telegram.reply_to(private_message("/filter exclude <Kotlin>"))
    await telegram.reply_to(private_message("/filter min 30m"))
    reply = await telegram.reply_to(private_message("/filter max 5h"))
    assert "Only titles with: “div. 2”" in reply.text
    assert "Hidden when the title has: “&lt;kotlin&gt;”" in reply.text
    assert "Duration: from 30 min to 5 h" in reply.text
    assert [b["text"] for b in reply.buttons()] == ["✕ +div. 2", "✕ −<kotlin>", "✕ ≥ 30 min", "✕ ≤ 5 h",
                                                    "Clear all filters"]
    assert await filters_of(USER_ID) == Filters(("div. 2",), ("<kotlin>",), 30 * MINUTE, 5 * HOUR)

    reply = await telegram.reply_to(private_message("/filter max off"))
    assert "Duration: at least 30 min" in reply.text
    reply = await telegram.reply_to(private_message("/filter remove <KOTLIN>"))
    assert "Hidden when the title has: (nothing)" in reply.text
    assert await filters_of(USER_ID) == Filters(("div. 2",), (), 30 * MINUTE, None)
    await telegram.reply_to(private_message("/filter clear"))
    assert await filters_of(USER_ID) == Filters()


@pytest.mark.parametrize(("command", "said"), [
    ("/filter sort", "I don't understand that"),
    ("/filter include", "I don't understand that"),
    ("/filter include " + "x" * 51, "at most 50 characters"),
    ("/filter include w20", "at most 20 keywords"),
    ("/filter remove java", "“java” is not one of your keywords"),
    ("/filter include !!", "A keyword needs a letter or a digit: “!!” has none."),
    ("/filter max 5x", "I can't read “5x”"),
    ("/filter max 90d", "“90d” is out of range"),
    ("/filter min 6h", "The minimum (6 h) would be longer than the maximum (5 h)"),
    ("/filter max 10m", "The minimum (30 min) would be longer than the maximum (10 min)"),
])
async def test_bad_input_says_why_and_changes_nothing(telegram, command, said):
    await telegram.reply_to(private_message("/filter"))
    before = Filters(tuple(f"w{i}" for i in range(20)), ("kotlin",), 30 * MINUTE, 5 * HOUR)
    await Account.filter(telegram_chats__chat_id=USER_ID).update(
        include_keywords=list(before.include), exclude_keywords=list(before.exclude),
        min_duration=before.min_duration, max_duration=before.max_duration)
    reply = await telegram.reply_to(private_message(command))
    assert said in reply.text and "Nothing changed." in reply.text
    assert await filters_of(USER_ID) == before


async def press(telegram, data: str, **where) -> list[str]:
    """Press a button; the texts of the keyboard it is edited to."""
    before = len(telegram.fake.sent("editMessageText"))
    assert await telegram.send(callback(data, **where)) == 200
    edit = (await telegram.fake.wait_for("editMessageText", count=before + 1))[before]
    return [b["text"] for b in edit.buttons()]


async def test_buttons_drop_filters_in_place(telegram):
    await telegram.reply_to(private_message("/filter include abc"))
    await telegram.reply_to(private_message("/filter exclude kotlin"))
    reply = await telegram.reply_to(private_message("/filter max 3h"))
    drop_kotlin = reply.buttons()[1]["callback_data"]
    assert await press(telegram, drop_kotlin) == ["✕ +abc", "✕ ≤ 3 h", "Clear all filters"]
    assert await filters_of(USER_ID) == Filters(("abc",), (), None, 3 * HOUR)
    assert await press(telegram, drop_kotlin) == ["✕ +abc", "✕ ≤ 3 h", "Clear all filters"]  # a stale button
    assert "already gone" in telegram.fake.sent("answerCallbackQuery")[-1].text
    assert await press(telegram, FilterDrop(what="all").pack()) == []
    assert await filters_of(USER_ID) == Filters()


async def test_group_members_see_but_only_admins_change(telegram):
    shown = await telegram.reply_to(group_message("/filter@simrsjsonbot"))
    assert "Duration: any" in shown.text
    refusal = await telegram.reply_to(group_message("/filter@simrsjsonbot exclude kotlin"))
    assert "only the chat's administrators" in refusal.text
    assert await filters_of(GROUP_ID) == Filters()

    done = await telegram.reply_to(group_message("/filter@simrsjsonbot exclude kotlin", user_id=ADMIN_ID))
    assert "Hidden when the title has: “kotlin”" in done.text
    assert await telegram.send(callback(FilterDrop(what="all").pack(), chat_id=GROUP_ID, chat_type="group")) == 200
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert "only the chat's administrators" in answer.text
    assert telegram.fake.sent("editMessageText") == []
    assert await filters_of(GROUP_ID) == Filters(exclude=("kotlin",))

    keyboard = await press(telegram, FilterDrop(what="all").pack(), chat_id=GROUP_ID, user_id=ADMIN_ID,
                           chat_type="group")
    assert keyboard == []
    assert await filters_of(GROUP_ID) == Filters()


async def test_settings_button_opens_the_filter_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="filter").pack()), "editMessageText")
    assert "Duration: any" in reply.text
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_russian_needs_the_merged_catalog(telegram):
    reply = await telegram.reply_to(private_message("/filter max 5h", language_code="ru"))
    assert "Длительность: не больше 5ч" in reply.text


async def test_upcoming_selection_honours_the_filters(telegram):
    now = datetime.now(UTC)
    rows = [
        ("codeforces", "Codeforces Round 1000 (Div. 2)", 2 * HOUR),
        ("codeforces", "Codeforces Round 1001 (Div. 1)", 2 * HOUR),
        ("codeforces", "Kotlin Heroes: Episode 12 (Div. 2)", 150 * MINUTE),
        ("codeforces", "Educational Codeforces Round 170 (Rated for Div. 2)", 2 * HOUR),
        ("atcoder", "AtCoder Beginner Contest 400", 100 * MINUTE),
        ("atcoder", "AtCoder Heuristic Contest 050 (div. 2 style)", 10 * 24 * HOUR),
        ("leetcode", "Weekly Contest 450 DIV. 2", 90 * MINUTE),
        ("luogu", "Luogu Div. 2 Monthly", 3 * HOUR),  # a site not followed
    ]
    for number, (site, title, duration) in enumerate(rows):
        start = now + timedelta(hours=number + 1)
        await Contest.create(site_id=site, key=f"k{number}", title=title, url=f"https://example.com/{number}",
                             start=start, end=start + timedelta(seconds=duration), duration=duration)
    await Contest.create(site_id="codeforces", key="past", title="Past Round (Div. 2)", url="https://example.com/p",
                         start=now - timedelta(hours=1), end=now + timedelta(hours=1), duration=2 * HOUR)

    async def titles() -> list[str]:
        account = await Account.get(telegram_chats__chat_id=USER_ID)
        return [c.title for c in await upcoming(ContestFilter.of(account), now)]

    await telegram.reply_to(private_message("/filter include div. 2"))
    assert await titles() == [
        "Codeforces Round 1000 (Div. 2)", "Kotlin Heroes: Episode 12 (Div. 2)",
        "Educational Codeforces Round 170 (Rated for Div. 2)", "AtCoder Heuristic Contest 050 (div. 2 style)",
        "Weekly Contest 450 DIV. 2",
    ]
    await telegram.reply_to(private_message("/filter exclude KOTLIN"))
    await telegram.reply_to(private_message("/filter exclude educational"))
    await telegram.reply_to(private_message("/filter max 5h"))
    assert await titles() == ["Codeforces Round 1000 (Div. 2)", "Weekly Contest 450 DIV. 2"]
    await telegram.reply_to(private_message("/filter min 1h 45m"))
    assert await titles() == ["Codeforces Round 1000 (Div. 2)"]
    await telegram.reply_to(private_message("/filter clear"))
    assert len(await titles()) == 7


def test_keywords_are_told_apart_loosely_and_commas_separate_them():
    filters = change_filters(Filters(), "include div 2,  Educational ")
    assert filters.include == ("div 2", "educational")
    assert change_filters(filters, "include DIV-2, div2, Div. 2") == filters  # the same keyword three times
    moved = change_filters(filters, "exclude div.2")
    assert (moved.include, moved.exclude) == (("educational",), ("div.2",))
    assert change_filters(filters, "remove DIV. 2, educational!").include == ()
    with pytest.raises(NotAKeyword):
        change_filters(filters, "remove div 2, kotlin")


async def add_contests(titles: dict[str, str]) -> None:
    """Upcoming contests, one an hour from now on: {title: site}."""
    now = datetime.now(UTC)
    for number, (title, site) in enumerate(titles.items()):
        start = now + timedelta(hours=number + 1)
        await Contest.create(site_id=site, key=f"k{number}", title=title, url=f"https://example.com/{number}",
                             start=start, end=start + timedelta(hours=2), duration=2 * HOUR)


async def upcoming_titles(chat_id: int = USER_ID) -> list[str]:
    account = await Account.get(telegram_chats__chat_id=chat_id)
    return [c.title for c in await upcoming(ContestFilter.of(account), datetime.now(UTC))]


@pytest.mark.parametrize("typed", ["div 2", "Div. 2", "div2", "DIV-2"])
async def test_a_keyword_matches_however_it_is_written(telegram, typed):
    await add_contests({"Codeforces Round 999 (Div. 2)": "codeforces", "Codeforces Round 1000 (Div. 1)": "codeforces",
                        "LeetCode Weekly div2 practice": "leetcode", "AtCoder Beginner Contest 400": "atcoder",
                        "Codeforces Round 1001 (Div. 1 + Div. 2)": "codeforces"})
    reply = await telegram.reply_to(private_message(f"/filter include {typed}"))
    assert await upcoming_titles() == ["Codeforces Round 999 (Div. 2)", "LeetCode Weekly div2 practice",
                                       "Codeforces Round 1001 (Div. 1 + Div. 2)"]
    assert "3 upcoming contests on your sites match these filters." in reply.text

    await telegram.reply_to(private_message(f"/filter exclude {typed}"))
    assert await upcoming_titles() == ["Codeforces Round 1000 (Div. 1)", "AtCoder Beginner Contest 400"]


async def test_commas_make_several_keywords(telegram):
    await add_contests({"Codeforces Round 999 (Div. 2)": "codeforces", "Educational Round 170": "codeforces",
                        "AtCoder Beginner Contest 400": "atcoder"})
    reply = await telegram.reply_to(private_message("/filter include div 2, educational"))
    assert "Only titles with: “div 2”, “educational”" in reply.text
    assert await filters_of(USER_ID) == Filters(include=("div 2", "educational"))
    assert await upcoming_titles() == ["Codeforces Round 999 (Div. 2)", "Educational Round 170"]
    assert "2 upcoming contests on your sites match these filters." in reply.text


async def test_a_filter_that_hides_everything_is_warned_of(telegram):
    await add_contests({"Codeforces Round 999 (Div. 2)": "codeforces", "AtCoder Beginner Contest 400": "atcoder",
                        "Weekly Contest 450": "leetcode", "Luogu Monthly Div. 2": "luogu"})  # luogu: not followed
    reply = await telegram.reply_to(private_message("/filter include div 2"))
    assert "1 upcoming contest on your sites matches these filters." in reply.text
    assert "⚠️ They hide every upcoming contest of AtCoder, LeetCode." in reply.text  # not luogu: not followed
    reply = await telegram.reply_to(private_message("/filter include div 2"))  # saved again: the same count
    assert "1 upcoming contest on your sites matches" in reply.text

    reply = await telegram.reply_to(private_message("/filter exclude codeforces round"))
    assert "⚠️ No upcoming contest on your sites matches these filters" in reply.text
    assert "/filter clear" in reply.text
    assert await upcoming_titles() == []

    drop = next(b["callback_data"] for b in reply.buttons() if b["text"] == "✕ −codeforces round")
    await press(telegram, drop)
    edited = telegram.fake.sent("editMessageText")[-1]
    assert "1 upcoming contest on your sites matches these filters." in edited.text
    reply = await telegram.reply_to(private_message("/filter include atcoder, weekly"))  # with div 2: 3
    assert "3 upcoming contests on your sites match these filters." in reply.text and "They hide" not in reply.text


async def test_the_count_speaks_russian(telegram):
    await add_contests({"Codeforces Round 999 (Div. 2)": "codeforces", "Codeforces Round 998 (Div. 2)": "codeforces",
                        "Educational Round 170 (Div. 2)": "codeforces"})
    reply = await telegram.reply_to(private_message("/filter include div 2", language_code="ru"))
    assert "3 предстоящих контеста" in reply.text
    reply = await telegram.reply_to(private_message("/filter include нет такого", language_code="ru"))
    assert "3 предстоящих контеста" in reply.text
    reply = await telegram.reply_to(private_message("/filter exclude div 2", language_code="ru"))
    assert "⚠️" in reply.text and "/filter clear" in reply.text


def test_a_keyword_on_both_sides_is_found_however_it_is_written():
    """The web's form takes both sides at once (web/account.py refuses a contradiction with this rule)."""
    assert on_both_sides(("div. 2", "educational"), ("kotlin", "DIV2", "Educational!")) == ["DIV2", "Educational!"]
    assert on_both_sides(("div. 2",), ("div. 1",)) == []
