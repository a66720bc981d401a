"""Inline mode: `@bot` and `@bot SITE` offer upcoming contests in the user's zone, chosen by their filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.inline import MAX_RESULTS, sites_in_query
from models.account import Account, TelegramChat
from models.catalog import listed_slugs
from models.contest import Contest
from notify.formatting import local_time, wall_time
from notify.zones import utc_offset
from tests.bot.test_upcoming import LISTED, add_contest, chat_account, soon
from tests.bot.updates import USER_ID, inline_query
from tests.catalog import fill_catalog


def test_sites_in_query_match_as_the_user_types():
    assert sites_in_query("", LISTED) == ([], [])
    assert sites_in_query("codeforces", LISTED) == (["codeforces"], [])
    assert sites_in_query("codef", LISTED) == (["codeforces", "codeforces-gym"], [])
    assert sites_in_query("AtCoder, luogu", LISTED) == (["atcoder", "luogu"], [])
    assert sites_in_query("atcoder nosuch", LISTED) == (["atcoder"], ["nosuch"])


async def test_empty_query_offers_the_next_contests_of_the_user_filters(telegram):
    await chat_account(timezone="Europe/Berlin")
    for index in range(25):
        await add_contest(f"{index:03d}", soon(hours=1 + index, seconds=30),
                          title=f"Round #{index:03d} <Div. 2> & more")
    await add_contest("lg", soon(minutes=30), site="luogu", title="Luogu Monthly")  # not one of the user's sites
    query = inline_query("")
    answer = await telegram.reply_to(query, "answerInlineQuery")
    assert answer.params["inline_query_id"] == query["inline_query"]["id"]
    assert answer.params["cache_time"] == "30" and answer.params["is_personal"] == "true"
    results = answer.params["results"]
    assert len(results) == MAX_RESULTS
    first = results[0]
    assert first["type"] == "article" and first["title"] == "Round #000 <Div. 2> & more"
    start = (await Contest.get(key="000")).start
    berlin = ZoneInfo("Europe/Berlin")
    assert first["description"].startswith(f"Codeforces · {local_time(start, berlin, 'en')} · ")
    assert first["description"].endswith("in 1 h")  # for the sender, while choosing
    content = first["input_message_content"]
    shared = content["message_text"]
    assert shared.startswith("<b>Round #000 &lt;Div. 2&gt; &amp; more</b>\n"
                             f"Codeforces · {wall_time(start, berlin, 'en')} ({utc_offset(berlin, start)})\n")
    assert "Duration: 2 h" in shared
    assert not re.search(r"\bin \d|\bago\b|\bnow\b|Europe/Berlin|Berlin", shared)  # never stale, never a zone name
    assert content.get("parse_mode") in (None, "HTML")
    assert all("Luogu" not in result["title"] for result in results)


async def test_inline_times_follow_dst_in_the_user_zone(telegram):
    await chat_account(timezone="Europe/Berlin")
    year = datetime.now(UTC).year + 1
    await add_contest("winter", datetime(year, 1, 15, 10, 0, tzinfo=UTC), title="Winter Round")
    await add_contest("summer", datetime(year, 7, 15, 10, 0, tzinfo=UTC), title="Summer Round")
    answer = await telegram.reply_to(inline_query(""), "answerInlineQuery")
    winter, summer = answer.params["results"]
    assert "Jan, 11:00 (UTC+1)" in winter["description"]
    assert "Jul, 12:00 (UTC+2)" in summer["description"]
    assert "Jan, 11:00 (UTC+1)\n" in winter["input_message_content"]["message_text"]
    assert "Jul, 12:00 (UTC+2)\n" in summer["input_message_content"]["message_text"]


async def test_a_shared_contest_in_new_york_states_its_offset_not_the_zone(telegram):
    await chat_account(timezone="America/New_York", language="ru")
    year = datetime.now(UTC).year + 1
    await add_contest("summer", datetime(year, 7, 15, 14, 35, tzinfo=UTC), title="Summer Round")
    answer = await telegram.reply_to(inline_query(""), "answerInlineQuery")
    [article] = answer.params["results"]
    shared = article["input_message_content"]["message_text"]
    assert "15 июл., 10:35 (UTC\u22124)\n" in shared
    assert "через" not in shared and "Нью-Йорк" not in shared and "New_York" not in shared


async def test_query_with_a_site_offers_only_that_site(telegram):
    await add_contest("cf", soon(hours=1), title="CF Round")
    await add_contest("ac", soon(hours=2), site="atcoder", title="ABC 402")
    await add_contest("lg", soon(hours=3), site="luogu", title="Luogu Monthly")
    answer = await telegram.reply_to(inline_query("luogu"), "answerInlineQuery")
    assert [r["title"] for r in answer.params["results"]] == ["Luogu Monthly"]
    answer = await telegram.reply_to(inline_query("atcoder codeforces"), "answerInlineQuery")
    assert [r["title"] for r in answer.params["results"]] == ["CF Round", "ABC 402"]


async def test_unknown_site_gets_one_article_saying_so(telegram):
    await add_contest("cf", soon(hours=1), title="CF Round")
    answer = await telegram.reply_to(inline_query("nosuch"), "answerInlineQuery")
    [article] = answer.params["results"]
    assert article["title"] == "Unknown site: nosuch"
    assert "codeforces" in article["description"] and "CF Round" not in str(article)


async def test_with_sixty_sites_the_unknown_site_article_stays_short(telegram):
    await fill_catalog(60)
    answer = await telegram.reply_to(inline_query("nosuch"), "answerInlineQuery")
    [article] = answer.params["results"]
    assert article["description"] == "Type the start of a site, e.g. codeforces, atcoder, leetcode, codechef, " \
                                      f"{(await listed_slugs())[4]}, {(await listed_slugs())[5]}, … (60 in all)"
    text = article["input_message_content"]["message_text"]
    assert text.startswith("Contest sites I know: codeforces, atcoder, ") and "/sites" in text and len(text) < 200
    answer = await telegram.reply_to(inline_query("kagle"), "answerInlineQuery")
    assert answer.params["results"][0]["description"] == "Did you mean kaggle?"


async def test_a_site_found_through_clist_is_offered(telegram):
    await fill_catalog(60)
    await add_contest("t1", soon(hours=2), site="toph", title="Toph Round")
    await add_contest("cf", soon(hours=1), title="CF Round")
    answer = await telegram.reply_to(inline_query("top"), "answerInlineQuery")
    [article] = answer.params["results"]
    assert article["title"] == "Toph Round" and article["description"].startswith("toph · ")


async def test_first_inline_query_creates_the_user_account_in_their_language(telegram):
    start = datetime(datetime.now(UTC).year + 1, 7, 15, 10, 0, tzinfo=UTC)
    await add_contest("cf", start, title="CF Round")
    answer = await telegram.reply_to(inline_query("", language_code="ru"), "answerInlineQuery")
    [article] = answer.params["results"]
    assert "15 июл" in article["description"] and "10:00 (UTC)" in article["description"]
    assert "через" in article["description"]
    chat = await TelegramChat.get(chat_id=USER_ID).select_related("account")
    assert chat.chat_type == "private" and chat.account.language == "ru"
    assert await Account.all().count() == 1


async def test_no_upcoming_contests_no_results(telegram):
    await add_contest("past", soon(hours=-1))
    answer = await telegram.reply_to(inline_query("codeforces"), "answerInlineQuery")
    assert answer.params["results"] == []
