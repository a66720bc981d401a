"""/upcoming: the chat's filters or the named sites, times in the chat's zone (named once) and language, the
divisions of one round as one entry, paging on and back by button."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.screens import OpenSection
from bot.upcoming import (
    LAST_MOMENT,
    MAX_PAGE,
    PAGE_SIZE,
    READ_LIMIT,
    UpcomingPage,
    page_data,
    parse_sites,
    read_listing,
    site_id,
    unpacked_sites,
)
from models.account import Account, TelegramChat
from models.catalog import listed_slugs
from models.contest import Contest
from models.selection import ContestFilter
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
from tests.catalog import add_site, fill_catalog

RU_WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


async def add_contest(key: str, start: datetime, site: str = "codeforces", title: str | None = None,
                      duration: int = 7200, **fields: Any) -> Contest:
    return await Contest.create(site_id=site, key=key, title=title or f"Round {key}", url=f"https://{site}.test/{key}",
                                start=start, end=start + timedelta(seconds=duration), duration=duration, **fields)


async def chat_account(chat_id: int = USER_ID, **settings: Any) -> Account:
    account = await Account.create(sites=["codeforces", "atcoder", "leetcode", "codechef"], **settings)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private" if chat_id > 0 else "group")
    return account


def soon(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


# the rules, called directly

LISTED = ["codeforces", "atcoder", "leetcode", "codechef", "codeforces-gym", "luogu"]
#: slugs as long as a slug may be (40 characters)
LONG = [f"{letter * 36}-cup" for letter in "abcdefghijkl"]


def test_parse_sites_splits_known_slugs_from_unknown_words():
    assert parse_sites("AtCoder, codeforces  atcoder", LISTED) == (["atcoder", "codeforces"], [])
    assert parse_sites("codeforces foo Bar foo", LISTED) == (["codeforces"], ["foo", "Bar"])
    assert parse_sites(None, LISTED) == ([], []) and parse_sites("  ", LISTED) == ([], [])


def test_the_paging_buttons_name_the_sites_by_slug_when_they_fit():
    data = page_data(LAST_MOMENT, MAX_PAGE, ["luogu", "atcoder"])
    assert data == f"up:{LAST_MOMENT}:{MAX_PAGE}:luogu,atcoder"
    assert unpacked_sites(UpcomingPage.unpack(data).sites, LISTED) == ["luogu", "atcoder"]
    assert page_data(1_700_000_000, 3, []) == "up:1700000000:3:"
    assert unpacked_sites("", LISTED) == []


def test_sites_that_do_not_fit_go_by_their_short_ids():
    for count in range(1, 12):
        data = page_data(LAST_MOMENT, MAX_PAGE, LONG[:count])
        assert data is not None and len(data.encode()) <= 64, count
        sites = UpcomingPage.unpack(data).sites
        assert sites.startswith("~") == (count > 1)
        assert unpacked_sites(sites, [*LISTED, *reversed(LONG)]) == LONG[:count]
    assert page_data(LAST_MOMENT, MAX_PAGE, LONG[:12]) is None


def test_a_button_naming_a_site_that_is_not_listed_names_nothing():
    assert unpacked_sites("luogu,nosuch", LISTED) is None
    assert unpacked_sites("~" + site_id("nosuch"), LISTED) is None
    assert unpacked_sites("~" + site_id("luogu") + site_id("atcoder"), LISTED) == ["luogu", "atcoder"]


async def test_pages_of_one_list_neither_skip_nor_repeat_a_contest(db):
    """Rounds of two divisions count as one entry, also where a page ends; every contest is on one page."""
    same = soon(hours=5)
    for index in range(25):
        title = f"Round {index // 2} (Div. {1 + index % 2})" if 8 <= index <= 13 else f"Cup {index:03d}"
        await add_contest(f"{index:03d}", same if 8 <= index <= 13 else soon(hours=1 + index), title=title)
    listing = await read_listing(ContestFilter(sites=("codeforces",)), datetime.now(UTC))
    assert listing.complete and len(listing.events) == 22 and listing.pages() == 3
    seen = [contest.key for number in range(listing.pages()) for event in listing.page(number)
            for contest in event.contests]
    everything = [c.key for c in await Contest.filter(site_id="codeforces").order_by("start", "site_id", "key")]
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen)) == 25
    assert [len(listing.page(number)) for number in range(3)] == [10, 10, 2]


async def test_a_list_cut_at_the_read_limit_leaves_out_its_last_start_whole(db):
    start = soon(hours=1)
    for index in range(READ_LIMIT - 1):
        await add_contest(f"a{index:04d}", start, title=f"Cup {index}")
    await add_contest("div1", soon(hours=2), title="Round 1 (Div. 1)")
    await add_contest("div2", soon(hours=2), title="Round 1 (Div. 2)")
    listing = await read_listing(ContestFilter(sites=("codeforces",)), datetime.now(UTC))
    assert not listing.complete and len(listing.events) == READ_LIMIT - 1
    assert all(event.first.start == start for event in listing.events)  # the round comes whole on a later read


# the command

async def test_contests_in_the_chat_zone_across_a_dst_change_with_relative_time(telegram):
    await chat_account(timezone="Europe/Berlin")
    year = datetime.now(UTC).year + 1
    await add_contest("summer", datetime(year, 7, 15, 10, 0, tzinfo=UTC), title="Summer Round", duration=9000)
    await add_contest("winter", datetime(year, 1, 15, 10, 0, tzinfo=UTC), title="Winter Round")
    await add_contest("soon", soon(hours=3, minutes=20, seconds=30), site="atcoder", title="ABC 400")
    reply = await telegram.reply_to(private_message("/upcoming"))
    lines = reply.text.split("\n\n")
    assert re.fullmatch(r"<b>Upcoming contests</b>\nTimes in Berlin \(UTC\+[12]\)", lines[0])  # the offset now
    assert [block.split("\n")[0] for block in lines[1:]] == ["<b>ABC 400</b>", "<b>Winter Round</b>",
                                                             "<b>Summer Round</b>"]
    assert "AtCoder · " in lines[1] and "in 3 h 20 min" in lines[1]
    assert "Jan, 11:00 · " in lines[2]  # UTC+1 in winter
    assert "Jul, 12:00 · " in lines[3]  # UTC+2 in summer
    assert "Berlin" not in "".join(lines[1:]) and "UTC" not in "".join(lines[1:])  # the zone once, in the header
    assert "Duration: 2 h 30 min" in lines[3] and 'href="https://codeforces.test/summer"' in lines[3]
    assert reply.buttons() == []


async def test_russian_account_sees_russian_month_and_weekday_names(telegram):
    await chat_account(timezone="Europe/Moscow", language="ru")
    start = datetime(datetime.now(UTC).year + 1, 7, 15, 10, 0, tzinfo=UTC)
    await add_contest("ru", start)
    reply = await telegram.reply_to(private_message("/upcoming", language_code="ru"))
    assert f"{RU_WEEKDAYS[start.weekday()]}, 15 июл" in reply.text and "13:00 · " in reply.text
    assert "Москва (UTC+3)" in reply.text
    assert "Длительность: 2ч" in reply.text and "через " in reply.text
    assert "Ближайшие контесты" in reply.text  # needs the Russian catalog merged


async def test_titles_are_escaped(telegram):
    await add_contest("x", soon(hours=2), title="<script>alert(1)</script> & Div. 2")
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert "<b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Div. 2</b>" in reply.text
    assert "<script>" not in reply.text


async def test_the_chat_filters_choose_the_contests(telegram):
    await chat_account(exclude_keywords=["kotlin"])
    await add_contest("plain", soon(hours=1), title="Div. 2 Round")
    await add_contest("kotlin", soon(hours=2), title="Kotlin Heroes")
    await add_contest("luogu", soon(hours=3), site="luogu", title="Luogu Monthly")
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert "Div. 2 Round" in reply.text
    assert "Kotlin Heroes" not in reply.text and "Luogu Monthly" not in reply.text


async def test_named_sites_replace_the_chat_sites(telegram):
    await add_contest("cf", soon(hours=1), title="CF Round")
    await add_contest("lg", soon(hours=2), site="luogu", title="Luogu Monthly")
    await add_contest("ac", soon(hours=3), site="atcoder", title="ABC 401")
    reply = await telegram.reply_to(private_message("/upcoming luogu, AtCoder"))
    assert reply.text.startswith("<b>Upcoming contests on Luogu, AtCoder</b>")
    assert "Luogu Monthly" in reply.text and "ABC 401" in reply.text and "CF Round" not in reply.text
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    assert account.sites == ["codeforces", "atcoder", "leetcode", "codechef"]  # listing changes nothing


async def test_unknown_site_points_to_sites_and_shows_nothing_else(telegram):
    await fill_catalog(60)
    await add_contest("cf", soon(hours=1), title="CF Round")
    reply = await telegram.reply_to(private_message("/upcoming codeforces <nosuch>"))
    assert "I don't know these sites: &lt;nosuch&gt;." in reply.text and "/sites shows every site" in reply.text
    assert "kaggle" not in reply.text and len(reply.text) < 200  # not sixty slugs
    assert "CF Round" not in reply.text and reply.buttons() == []
    reply = await telegram.reply_to(private_message("/upcoming kagle"))
    assert "Did you mean kaggle?" in reply.text
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    assert account.sites == ["codeforces", "atcoder", "leetcode", "codechef"]


async def test_no_contests_points_to_sites_and_filter(telegram):
    await add_contest("lg", soon(hours=1), site="luogu")
    await add_contest("past", soon(hours=-1))
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert "No upcoming contests" in reply.text and "/sites" in reply.text and "/filter" in reply.text
    reply = await telegram.reply_to(private_message("/upcoming leetcode"))
    assert "No upcoming contests on LeetCode" in reply.text and reply.buttons() == []


def buttons_of(call) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for b in call.buttons()}


async def test_more_and_back_page_by_editing_with_the_range_in_the_header(telegram):
    for index in range(23):
        await add_contest(f"{index:03d}", soon(hours=1 + index), title=f"Round #{index:03d}")
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert reply.text.startswith("<b>Upcoming contests</b> · 1–10 of 23\nTimes in UTC\n\n")
    assert reply.text.count("Round #") == PAGE_SIZE and "Round #009" in reply.text
    assert list(buttons_of(reply)) == ["More ▶"]
    message_id = 1000  # the fake server numbers the bot's messages from 1000
    edit = await telegram.reply_to(callback(buttons_of(reply)["More ▶"], message_id=message_id), "editMessageText")
    assert int(edit.params["message_id"]) == message_id and edit.chat_id == USER_ID
    assert edit.text.startswith("<b>Upcoming contests</b> · 11–20 of 23\n")
    assert edit.text.count("Round #") == PAGE_SIZE and "Round #010" in edit.text and "Round #019" in edit.text
    assert "Round #009" not in edit.text
    assert list(buttons_of(edit)) == ["◀ Back", "More ▶"]

    back = await telegram.reply_to(callback(buttons_of(edit)["◀ Back"], message_id=message_id), "editMessageText")
    assert back.text == reply.text and back.markup() == reply.markup()  # page 1 drawn again, as it was

    last = await telegram.reply_to(callback(buttons_of(edit)["More ▶"], message_id=message_id), "editMessageText")
    assert last.text.startswith("<b>Upcoming contests</b> · 21–23 of 23\n")
    assert last.text.count("Round #") == 3 and "Round #022" in last.text
    assert list(buttons_of(last)) == ["◀ Back"]
    await telegram.fake.wait_for("answerCallbackQuery", count=3)
    assert len(telegram.fake.sent()) == 1  # one message: the pages were edits


async def test_divisions_of_one_round_are_one_entry_and_pages_count_entries(telegram):
    await chat_account(timezone="Europe/Moscow")
    same = soon(hours=3)
    await add_contest("2273", same, title="Codeforces Round 1127 (Div. 1)")
    await add_contest("2274", same, title="Codeforces Round 1127 (Div. 2)")
    await add_contest("2275", same, title="Codeforces Round 1127 (Div. 1 + Div. 2)")  # another round
    for index in range(9):
        await add_contest(f"{index:03d}", soon(hours=4 + index), title=f"Cup #{index:03d}")
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert reply.text.startswith("<b>Upcoming contests</b> · 1–10 of 11\nTimes in Moscow (UTC+3)\n\n")
    entries = reply.text.split("\n\n")[1:]
    assert [entry.split("\n")[0] for entry in entries[:2]] == [
        "<b>Codeforces Round 1127 (Div. 1, Div. 2)</b>", "<b>Codeforces Round 1127 (Div. 1 + Div. 2)</b>"]
    assert 'href="https://codeforces.test/2273">Div. 1</a> · <a href="https://codeforces.test/2274">Div. 2</a>' \
        in entries[0]
    assert reply.text.count("(UTC+3)") == 1 and "Moscow" not in "".join(entries)
    page2 = await telegram.reply_to(callback(buttons_of(reply)["More ▶"]), "editMessageText")
    assert page2.text.startswith("<b>Upcoming contests</b> · 11–11 of 11\n") and "Cup #008" in page2.text
    assert "Cup #007" not in page2.text


async def test_more_keeps_the_named_sites(telegram):
    for index in range(12):
        await add_contest(f"lg{index:02d}", soon(hours=1 + index), site="luogu", title=f"Luogu #{index:02d}")
        await add_contest(f"cf{index:02d}", soon(hours=1 + index, minutes=30), title=f"CF #{index:02d}")
    reply = await telegram.reply_to(private_message("/upcoming luogu"))
    edit = await telegram.reply_to(callback(reply.buttons()[0]["callback_data"]), "editMessageText")
    assert edit.text.startswith("<b>Upcoming contests on Luogu</b> · 11–12 of 12")
    assert "Luogu #10" in edit.text and "Luogu #11" in edit.text and "CF #" not in edit.text
    assert list(buttons_of(edit)) == ["◀ Back"]


async def test_a_page_whose_contests_have_started_starts_the_list_again_from_now(telegram):
    await add_contest("gone", soon(minutes=-30), title="Started Round")
    for index in range(3):
        await add_contest(f"{index:03d}", soon(hours=1 + index), title=f"Round #{index:03d}")
    data = UpcomingPage(since=int(soon(hours=-1).timestamp()), page=0).pack()
    edit = await telegram.reply_to(callback(data), "editMessageText")
    assert "Started Round" not in edit.text and edit.text.count("Round #") == 3
    [answer] = await telegram.fake.wait_for("answerCallbackQuery")
    assert "started" in answer.params["text"]


async def test_a_page_past_the_end_shows_the_last_page(telegram):
    for index in range(12):
        await add_contest(f"{index:03d}", soon(hours=1 + index), title=f"Round #{index:03d}")
    data = UpcomingPage(since=int(datetime.now(UTC).timestamp()), page=MAX_PAGE).pack()
    edit = await telegram.reply_to(callback(data), "editMessageText")
    assert "· 11–12 of 12" in edit.text and list(buttons_of(edit)) == ["◀ Back"]


async def test_group_members_list_and_page_without_being_admins(telegram):
    for index in range(11):
        await add_contest(f"{index:03d}", soon(hours=1 + index), title=f"Round #{index:03d}")
    reply = await telegram.reply_to(group_message("/upcoming@simrsjsonbot"))
    assert reply.chat_id == GROUP_ID and reply.text.count("Round #") == PAGE_SIZE
    group = await Account.get(telegram_chats__chat_id=GROUP_ID)
    assert group.kind == "group"
    edit = await telegram.reply_to(callback(reply.buttons()[0]["callback_data"], chat_id=GROUP_ID,
                                            chat_type="group"), "editMessageText")
    assert edit.chat_id == GROUP_ID and "Round #010" in edit.text
    assert telegram.fake.sent("getChatMember") == []  # nobody's rights were checked: showing is open
    admin = await telegram.reply_to(group_message("/upcoming@simrsjsonbot leetcode", user_id=ADMIN_ID))
    assert "No upcoming contests on LeetCode" in admin.text


@pytest.mark.parametrize("chat_type", ["private", "group"])
async def test_settings_button_opens_the_list(telegram, chat_type):
    chat_id = USER_ID if chat_type == "private" else GROUP_ID
    await add_contest("cf", soon(hours=1), title="CF Round")
    reply = await telegram.reply_to(callback(OpenSection(section="upcoming").pack(), chat_id=chat_id,
                                             chat_type=chat_type))
    assert reply.chat_id == chat_id and "CF Round" in reply.text
    await telegram.fake.wait_for("answerCallbackQuery")


# buttons sent before the catalog changed, forged and old ones


async def test_more_pages_through_the_same_sites_after_a_site_is_added(telegram):
    await fill_catalog(60)
    for index in range(12):
        await add_contest(f"t{index:02d}", soon(hours=1 + index), site="toph", title=f"Toph #{index:02d}")
        await add_contest(f"k{index:02d}", soon(hours=1 + index, minutes=20), site="kaggle",
                          title=f"Kaggle #{index:02d}")
        await add_contest(f"c{index:02d}", soon(hours=1 + index, minutes=40), title=f"CF #{index:02d}")
    reply = await telegram.reply_to(private_message("/upcoming toph kaggle"))
    assert reply.text.startswith("<b>Upcoming contests on toph, Kaggle</b>")
    [button] = reply.buttons()
    assert button["callback_data"].endswith(":toph,kaggle")
    await add_site("aaa-new", "AAA New Judge", "clist")  # sorts before every other site
    for index in range(12):
        await add_contest(f"n{index:02d}", soon(hours=1 + index, minutes=10), site="aaa-new", title=f"New #{index:02d}")
    edit = await telegram.reply_to(callback(button["callback_data"]), "editMessageText")
    assert edit.text.startswith("<b>Upcoming contests on toph, Kaggle</b>")
    assert edit.text.count("<b>Toph #") == 5 and edit.text.count("<b>Kaggle #") == 5  # the second ten
    assert "Toph #05" in edit.text and "Kaggle #09" in edit.text and "Kaggle #04" not in edit.text
    assert "New #" not in edit.text and "CF #" not in edit.text


async def test_many_named_sites_page_by_short_ids(telegram):
    added = await fill_catalog(60)
    named = added[:8]
    for index, slug in enumerate(named * 2):
        await add_contest(f"{slug}-{index}", soon(hours=1 + index), site=slug, title=f"Round {index:02d}")
    await add_contest("cf", soon(minutes=30), title="CF Round")
    reply = await telegram.reply_to(private_message("/upcoming " + " ".join(named)))
    [button] = reply.buttons()
    assert UpcomingPage.unpack(button["callback_data"]).sites.startswith("~")
    await add_site("aaa-new", "AAA New Judge")
    edit = await telegram.reply_to(callback(button["callback_data"]), "editMessageText")
    assert [line for line in edit.text.split("\n") if line.startswith("<b>Round")] == [
        f"<b>Round {index:02d}</b>" for index in range(10, 16)]
    assert "CF Round" not in edit.text


async def test_too_many_named_sites_leave_the_list_without_more(telegram):
    named = await fill_catalog(60)
    for index, slug in enumerate(named):
        await add_contest(f"{slug}-{index}", soon(hours=1 + index), site=slug, title=f"Round {index:02d}")
    reply = await telegram.reply_to(private_message("/upcoming " + " ".join(named)))
    assert reply.text.count("<b>Round") == PAGE_SIZE and reply.buttons() == []
    assert "name fewer sites" in reply.text


@pytest.mark.parametrize("sites", ["nosuch", "codeforces,nosuch", "~AAAA", "Codeforces", "codeforces,", ",", "~AAA",
                                   "clist"])
async def test_a_more_button_naming_an_unlisted_site_is_out_of_date(telegram, sites):
    await fill_catalog(60)
    await chat_account()
    await add_contest("cf", soon(hours=1))
    data = f"up:{int(datetime.now(UTC).timestamp())}:1:{sites}"
    answer = await telegram.reply_to(callback(data), "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == [] and telegram.fake.sent("editMessageReplyMarkup") == []


@pytest.mark.parametrize("data", ["upcoming:{after}:0:0", "upcoming:{after}:0:5", "upcoming:{after}:0:255",
                                  "more:{after}:3:", "more:{after}:10:codeforces"])
async def test_a_more_button_of_an_older_format_is_out_of_date(telegram, data):
    """Before: `upcoming:AFTER:SKIP:MASK`, bits over the sorted sites (a site added since shifts them), then
    `more:AFTER:SKIP:SITES`, a cursor that could only page on."""
    await chat_account()
    for index in range(12):
        await add_contest(f"{index:03d}", soon(hours=1 + index))
    answer = await telegram.reply_to(callback(data.format(after=int(soon(hours=5).timestamp()))),
                                     "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == []
    assert await listed_slugs()  # nothing was changed in the catalog either
