"""/upcoming: the chat's filters or the named sites, times in the chat's zone and language, paging by button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.screens import OpenSection
from bot.upcoming import (
    LAST_MOMENT,
    PAGE_SIZE,
    MoreContests,
    contests_page,
    more_data,
    next_cursor,
    parse_sites,
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
LONG = [f"{letter * 36}-cup" for letter in "abcdefghijk"]


def test_parse_sites_splits_known_slugs_from_unknown_words():
    assert parse_sites("AtCoder, codeforces  atcoder", LISTED) == (["atcoder", "codeforces"], [])
    assert parse_sites("codeforces foo Bar foo", LISTED) == (["codeforces"], ["foo", "Bar"])
    assert parse_sites(None, LISTED) == ([], []) and parse_sites("  ", LISTED) == ([], [])


def test_the_more_button_names_the_sites_by_slug_when_they_fit():
    data = more_data(LAST_MOMENT, PAGE_SIZE, ["luogu", "atcoder"])
    assert data == f"more:{LAST_MOMENT}:{PAGE_SIZE}:luogu,atcoder"
    assert unpacked_sites(MoreContests.unpack(data).sites, LISTED) == ["luogu", "atcoder"]
    assert more_data(1_700_000_000, 3, []) == "more:1700000000:3:"
    assert unpacked_sites("", LISTED) == []


def test_sites_that_do_not_fit_go_by_their_short_ids():
    for count in range(1, 11):
        data = more_data(LAST_MOMENT, PAGE_SIZE, LONG[:count])
        assert data is not None and len(data.encode()) <= 64, count
        sites = MoreContests.unpack(data).sites
        assert sites.startswith("~") == (count > 1)
        assert unpacked_sites(sites, [*LISTED, *reversed(LONG)]) == LONG[:count]
    assert more_data(LAST_MOMENT, PAGE_SIZE, LONG[:11]) is None


def test_a_button_naming_a_site_that_is_not_listed_names_nothing():
    assert unpacked_sites("luogu,nosuch", LISTED) is None
    assert unpacked_sites("~" + site_id("nosuch"), LISTED) is None
    assert unpacked_sites("~" + site_id("luogu") + site_id("atcoder"), LISTED) == ["luogu", "atcoder"]


async def test_pages_split_contests_sharing_a_start_exactly(db):
    same = soon(hours=5)
    for index in range(25):
        await add_contest(f"{index:03d}", same if 8 <= index <= 13 else soon(hours=1 + index))
    selection, now = ContestFilter(sites=("codeforces",)), datetime.now(UTC)
    seen, cursor, pages = [], (None, 0), 0
    while True:
        page, more = await contests_page(selection, now, *cursor)
        seen += [contest.key for contest in page]
        pages += 1
        if not more:
            break
        cursor = next_cursor(page)
    everything = [c.key for c in await Contest.filter(site_id="codeforces").order_by("start", "site_id", "key")]
    assert seen == everything and len(seen) == 25 and pages == 3


async def test_a_cursor_overtaken_by_time_starts_again_from_now(db):
    await add_contest("gone", soon(hours=-1))
    await add_contest("next", soon(hours=1))
    page, more = await contests_page(ContestFilter(sites=("codeforces",)), datetime.now(UTC),
                                     after=int(soon(hours=-2).timestamp()), skip=3)
    assert [c.key for c in page] == ["next"] and not more


# the command

async def test_contests_in_the_chat_zone_across_a_dst_change_with_relative_time(telegram):
    await chat_account(timezone="Europe/Berlin")
    year = datetime.now(UTC).year + 1
    await add_contest("summer", datetime(year, 7, 15, 10, 0, tzinfo=UTC), title="Summer Round", duration=9000)
    await add_contest("winter", datetime(year, 1, 15, 10, 0, tzinfo=UTC), title="Winter Round")
    await add_contest("soon", soon(hours=3, minutes=20, seconds=30), site="atcoder", title="ABC 400")
    reply = await telegram.reply_to(private_message("/upcoming"))
    lines = reply.text.split("\n\n")
    assert lines[0] == "<b>Upcoming contests</b>"
    assert [block.split("\n")[0] for block in lines[1:]] == ["<b>ABC 400</b>", "<b>Winter Round</b>",
                                                             "<b>Summer Round</b>"]
    assert "AtCoder · " in lines[1] and "in 3 h 20 min" in lines[1]
    assert "Jan, 11:00 (Europe/Berlin)" in lines[2]  # UTC+1 in winter
    assert "Jul, 12:00 (Europe/Berlin)" in lines[3]  # UTC+2 in summer
    assert "Duration: 2 h 30 min" in lines[3] and 'href="https://codeforces.test/summer"' in lines[3]
    assert reply.buttons() == []


async def test_russian_account_sees_russian_month_and_weekday_names(telegram):
    await chat_account(timezone="Europe/Moscow", language="ru")
    start = datetime(datetime.now(UTC).year + 1, 7, 15, 10, 0, tzinfo=UTC)
    await add_contest("ru", start)
    reply = await telegram.reply_to(private_message("/upcoming", language_code="ru"))
    assert f"{RU_WEEKDAYS[start.weekday()]}, 15 июл" in reply.text and "13:00 (Europe/Moscow)" in reply.text
    assert "Длительность: 2 ч" in reply.text and "через " in reply.text
    assert "Ближайшие соревнования" in reply.text  # needs the Russian catalog merged


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


async def test_more_pages_on_by_editing_until_the_last_page(telegram):
    for index in range(23):
        await add_contest(f"{index:03d}", soon(hours=1 + index), title=f"Round #{index:03d}")
    reply = await telegram.reply_to(private_message("/upcoming"))
    assert reply.text.count("Round #") == PAGE_SIZE and "Round #009" in reply.text
    [button] = reply.buttons()
    assert button["text"] == "More"
    message_id = 1000  # the fake server numbers the bot's messages from 1000
    edit = await telegram.reply_to(callback(button["callback_data"], message_id=message_id), "editMessageText")
    assert int(edit.params["message_id"]) == message_id and edit.chat_id == USER_ID
    assert edit.text.count("Round #") == PAGE_SIZE and "Round #010" in edit.text and "Round #019" in edit.text
    assert "Round #009" not in edit.text
    [button] = edit.buttons()
    last = await telegram.reply_to(callback(button["callback_data"], message_id=message_id), "editMessageText")
    assert last.text.count("Round #") == 3 and "Round #022" in last.text
    assert last.buttons() == []
    await telegram.fake.wait_for("answerCallbackQuery", count=2)


async def test_more_keeps_the_named_sites(telegram):
    for index in range(12):
        await add_contest(f"lg{index:02d}", soon(hours=1 + index), site="luogu", title=f"Luogu #{index:02d}")
        await add_contest(f"cf{index:02d}", soon(hours=1 + index, minutes=30), title=f"CF #{index:02d}")
    reply = await telegram.reply_to(private_message("/upcoming luogu"))
    edit = await telegram.reply_to(callback(reply.buttons()[0]["callback_data"]), "editMessageText")
    assert edit.text.startswith("<b>Upcoming contests on Luogu</b>")
    assert "Luogu #10" in edit.text and "Luogu #11" in edit.text and "CF #" not in edit.text
    assert edit.buttons() == []


async def test_more_when_nothing_is_left_removes_the_button(telegram):
    data = MoreContests(after=int(soon(days=30).timestamp()), skip=1).pack()
    await telegram.send(callback(data))
    [answer] = await telegram.fake.wait_for("answerCallbackQuery")
    assert answer.params["text"] == "That was the last page."
    [edit] = await telegram.fake.wait_for("editMessageReplyMarkup")
    assert edit.buttons() == []


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
    assert MoreContests.unpack(button["callback_data"]).sites.startswith("~")
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
    data = f"more:{int(soon(hours=1).timestamp())}:0:{sites}"
    answer = await telegram.reply_to(callback(data), "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == [] and telegram.fake.sent("editMessageReplyMarkup") == []


@pytest.mark.parametrize("mask", [0, 1, 5, 255])
async def test_a_more_button_of_the_old_mask_format_is_out_of_date(telegram, mask):
    """Before: `upcoming:AFTER:SKIP:MASK`, bits over the sorted sites; a site added since shifts them."""
    await chat_account()
    for index in range(12):
        await add_contest(f"{index:03d}", soon(hours=1 + index))
    answer = await telegram.reply_to(callback(f"upcoming:{int(soon(hours=5).timestamp())}:0:{mask}"),
                                     "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == []
    assert await listed_slugs()  # nothing was changed in the catalog either
