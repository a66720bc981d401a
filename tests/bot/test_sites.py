"""/sites, /subscribe, /unsubscribe: the paged ✓ keyboard of the catalog (popular sites first, then A–Z), text
commands, unknown names, forged buttons, group admin checks, and that /upcoming's selection follows the chosen
sites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.screens import OpenSection
from bot.sites import PAGE_SIZE, SitesPage, SiteToggle, changed, toggled
from models.account import Account
from models.catalog import listed_sites
from models.contest import Contest
from models.selection import POPULAR_SITES, ContestFilter, upcoming
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message
from tests.catalog import UNLISTED, fill_catalog
from tests.fake_telegram import Call

POPULAR_TICKED = ["✓ Codeforces", "✓ AtCoder", "✓ LeetCode", "✓ CodeChef"]


def test_changes_are_stored_sorted_by_slug():
    assert changed(["leetcode", "atcoder"], ["luogu", "atcoder"], follow=True) == ["atcoder", "leetcode", "luogu"]
    assert changed(["leetcode", "atcoder"], ["atcoder", "luogu"], follow=False) == ["leetcode"]
    assert toggled(["leetcode"], "atcoder") == ["atcoder", "leetcode"]
    assert toggled(["leetcode", "atcoder"], "atcoder") == ["leetcode"]
    assert toggled(["gone-from-the-catalog"], "atcoder") == ["atcoder", "gone-from-the-catalog"]


async def sites_of(chat_id: int) -> list[str] | None:
    return (await Account.get(telegram_chats__chat_id=chat_id)).sites


def site_buttons(call: Call) -> list[str]:
    return [b["text"] for b in call.buttons() if b["callback_data"].startswith("site:")]


def navigation(call: Call) -> list[str]:
    return [b["text"] for b in call.markup()["inline_keyboard"][-1]]


async def first_page(followed: tuple[str, ...] = POPULAR_SITES) -> list[str]:
    """The first page's site buttons as they should be: the catalog's first sites, the followed ones ticked."""
    return [("✓ " if site.slug in followed else "") + site.name for site in (await listed_sites())[:PAGE_SIZE]]


async def page_of(slug: str) -> int:
    return [site.slug for site in await listed_sites()].index(slug) // PAGE_SIZE


async def press(telegram, slug: str, page: int = 0, **where) -> list[str]:
    """Press a site's button; the texts of the site buttons it is edited to."""
    before = len(telegram.fake.sent("editMessageText"))
    assert await telegram.send(callback(SiteToggle(slug=slug, page=page).pack(), **where)) == 200
    edit = (await telegram.fake.wait_for("editMessageText", count=before + 1))[before]
    assert edit.params["message_id"] == "391"
    return site_buttons(edit)


async def edited_by(telegram, data: str) -> Call:
    before = len(telegram.fake.sent("editMessageText"))
    assert await telegram.send(callback(data)) == 200
    return (await telegram.fake.wait_for("editMessageText", count=before + 1))[before]


async def test_sites_shows_the_first_page_popular_sites_first(telegram):
    reply = await telegram.reply_to(private_message("/sites"))
    assert "You follow: Codeforces, AtCoder, LeetCode, CodeChef." in reply.text
    assert site_buttons(reply)[:4] == POPULAR_TICKED
    assert site_buttons(reply) == await first_page()
    others = site_buttons(reply)[4:]
    assert others == sorted(others, key=str.casefold) and not any(text.startswith("✓") for text in others)
    rows = reply.markup()["inline_keyboard"]
    assert [len(row) for row in rows[:-1]] == [2] * (PAGE_SIZE // 2)
    pages = -(-len(await listed_sites()) // PAGE_SIZE)
    assert f"Page 1 of {pages}." in reply.text
    assert navigation(reply) == (["Done", "▶"] if pages > 1 else ["Done"])
    assert reply.buttons()[4]["callback_data"] == f"site:{(await listed_sites())[4].slug}:0"


async def test_buttons_toggle_a_site_in_place(telegram):
    await telegram.reply_to(private_message("/sites"))
    keyboard = await press(telegram, "codeforces-gym")
    assert keyboard == await first_page((*POPULAR_SITES, "codeforces-gym"))
    assert "✓ Codeforces Gym" in keyboard
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "codeforces-gym", "leetcode"]
    keyboard = await press(telegram, "codeforces")
    assert keyboard[0] == "Codeforces" and "✓ Codeforces Gym" in keyboard
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces-gym", "leetcode"]
    edit = telegram.fake.sent("editMessageText")[-1]
    assert "You follow: AtCoder, LeetCode, CodeChef, Codeforces Gym." in edit.text
    assert len(telegram.fake.sent("answerCallbackQuery")) == 2


async def test_default_sites_become_an_explicit_list_on_the_first_change(telegram):
    await telegram.reply_to(private_message("/sites"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=None)
    shown = await telegram.reply_to(private_message("/sites"))
    assert site_buttons(shown) == await first_page()
    keyboard = await press(telegram, "atcoder")
    assert keyboard[:4] == ["✓ Codeforces", "AtCoder", "✓ LeetCode", "✓ CodeChef"]
    assert await sites_of(USER_ID) == [s for s in sorted(POPULAR_SITES) if s != "atcoder"]


async def test_unfollowing_the_last_site_says_nothing_will_come(telegram):
    await telegram.reply_to(private_message("/unsubscribe atcoder codechef codeforces"))
    await telegram.reply_to(private_message("/sites"))
    keyboard = await press(telegram, "leetcode")
    assert not any(text.startswith("✓") for text in keyboard)
    assert "You follow no sites" in telegram.fake.sent("editMessageText")[-1].text
    assert await sites_of(USER_ID) == []


async def test_subscribe_and_unsubscribe_by_text(telegram):
    reply = await telegram.reply_to(private_message("/subscribe LUOGU, nowcoder"))
    assert "You follow: Codeforces, AtCoder, LeetCode, CodeChef, Luogu, NowCoder." in reply.text
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "leetcode", "luogu", "nowcoder"]
    reply = await telegram.reply_to(private_message("/unsubscribe leetcode Luogu codeforces-gym"))
    assert "You follow: Codeforces, AtCoder, CodeChef, NowCoder." in reply.text
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "nowcoder"]


async def test_unsubscribe_from_the_default_set(telegram):
    await telegram.reply_to(private_message("/sites"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=None)
    await telegram.reply_to(private_message("/unsubscribe codechef"))
    assert await sites_of(USER_ID) == ["atcoder", "codeforces", "leetcode"]


@pytest.mark.parametrize("command", ["/subscribe luogu nosuchjudge", "/unsubscribe atcoder <b>x</b>"])
async def test_an_unknown_name_points_to_sites_and_changes_nothing(telegram, command):
    await fill_catalog()
    await telegram.reply_to(private_message("/sites"))
    reply = await telegram.reply_to(private_message(command))
    unknown = command.split()[-1]
    assert "Not a site" in reply.text and "Nothing changed." in reply.text and "/sites shows every site" in reply.text
    assert ("“nosuchjudge”" if unknown == "nosuchjudge" else "“&lt;b&gt;x&lt;/b&gt;”") in reply.text
    assert "kaggle" not in reply.text and len(reply.text) < 200  # 60 sites are not listed
    assert await sites_of(USER_ID) == list(POPULAR_SITES)


async def test_a_near_miss_is_answered_with_what_looks_close(telegram):
    reply = await telegram.reply_to(private_message("/subscribe codeforce"))
    assert "Did you mean codeforces?" in reply.text
    reply = await telegram.reply_to(private_message("/subscribe"))
    assert "/subscribe atcoder leetcode" in reply.text and "/sites shows every site" in reply.text


async def test_subscribe_without_names_asks_for_them(telegram):
    await telegram.reply_to(private_message("/sites"))
    reply = await telegram.reply_to(private_message("/subscribe"))
    assert "/subscribe atcoder leetcode" in reply.text
    assert await sites_of(USER_ID) == list(POPULAR_SITES)


async def test_group_members_see_but_only_admins_change(telegram):
    shown = await telegram.reply_to(group_message("/sites@simrsjsonbot"))
    assert site_buttons(shown) == await first_page()
    refusal = await telegram.reply_to(group_message("/subscribe@simrsjsonbot luogu"))
    assert "only the chat's administrators" in refusal.text
    refusal = await telegram.reply_to(group_message("/unsubscribe@simrsjsonbot atcoder"))
    assert "only the chat's administrators" in refusal.text
    assert await telegram.send(callback(SiteToggle(slug="luogu", page=1).pack(), chat_id=GROUP_ID,
                                        chat_type="group")) == 200
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert "only the chat's administrators" in answer.text
    assert telegram.fake.sent("editMessageText") == []
    assert await sites_of(GROUP_ID) == list(POPULAR_SITES)

    keyboard = await press(telegram, "luogu", page=await page_of("luogu"), chat_id=GROUP_ID, user_id=ADMIN_ID,
                           chat_type="group")
    assert "✓ Luogu" in keyboard
    done = await telegram.reply_to(group_message("/unsubscribe@simrsjsonbot atcoder", user_id=ADMIN_ID))
    assert "You follow: Codeforces, LeetCode, CodeChef, Luogu." in done.text
    assert await sites_of(GROUP_ID) == ["codechef", "codeforces", "leetcode", "luogu"]


async def test_settings_button_opens_the_sites_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="sites").pack()), "editMessageText")
    assert site_buttons(reply) == await first_page()
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_russian_needs_the_merged_catalog(telegram):
    reply = await telegram.reply_to(private_message("/sites", language_code="ru"))
    assert "Ваши сайты: Codeforces, AtCoder, LeetCode, CodeChef." in reply.text
    assert "Готово" in navigation(reply)


async def test_upcoming_selection_follows_the_chosen_sites(telegram):
    now = datetime.now(UTC)
    for number, site in enumerate(("codeforces", "atcoder", "luogu", "nowcoder", "codeforces-gym")):
        start = now + timedelta(hours=number + 1)
        await Contest.create(site_id=site, key=f"k{number}", title=f"{site} round", url=f"https://example.com/{number}",
                             start=start, end=start + timedelta(hours=2), duration=7200)
    await telegram.reply_to(private_message("/unsubscribe codeforces"))
    await telegram.reply_to(private_message("/subscribe luogu"))
    await telegram.reply_to(private_message("/sites"))
    await press(telegram, "codeforces-gym")
    account = await Account.get(telegram_chats__chat_id=USER_ID)
    titles = [c.title for c in await upcoming(ContestFilter.of(account), now)]
    assert titles == ["atcoder round", "luogu round", "codeforces-gym round"]


# sixty sites


async def test_sixty_sites_page_through_all_of_them_in_the_catalogs_order(telegram):
    await fill_catalog(60)
    catalog = await listed_sites()
    assert len(catalog) == 60 and UNLISTED not in [site.slug for site in catalog]
    screen = await telegram.reply_to(private_message("/sites"))
    seen, pages = [], []
    while True:
        assert all(len(b["callback_data"].encode()) <= 64 for b in screen.buttons())
        seen += site_buttons(screen)
        pages.append(navigation(screen))
        forward = [b for b in screen.markup()["inline_keyboard"][-1] if b["text"] == "▶"]
        if not forward:
            break
        screen = await edited_by(telegram, forward[0]["callback_data"])
        assert screen.params["message_id"] == "391"  # the same message, edited in place
    assert seen == [("✓ " if site.popular else "") + site.name for site in catalog]
    assert seen.index("toph") < seen.index("Universal Cup") < seen.index("Ural Championship")  # A–Z, case folded
    assert pages == [["Done", "▶"], *[["◀", "Done", "▶"]] * 4, ["◀", "Done"]]
    assert "Page 6 of 6." in screen.text
    back = await edited_by(telegram, SitesPage(page=4).pack())
    assert "Page 5 of 6." in back.text and site_buttons(back) == seen[40:50]
    assert await telegram.fake.wait_for("answerCallbackQuery", count=6)


async def test_toggling_on_page_three_keeps_page_three(telegram):
    await fill_catalog(60)
    catalog = await listed_sites()
    screen = await telegram.reply_to(private_message("/sites"))
    for _page in range(2):
        screen = await edited_by(telegram, next(b for b in screen.buttons() if b["text"] == "▶")["callback_data"])
    third = [site.name for site in catalog[20:30]]
    assert site_buttons(screen) == third and "Page 3 of 6." in screen.text
    chosen = catalog[23]
    [button] = [b for b in screen.buttons() if b["text"] == chosen.name]
    assert button["callback_data"] == f"site:{chosen.slug}:2"
    edit = await edited_by(telegram, button["callback_data"])
    assert "Page 3 of 6." in edit.text
    assert site_buttons(edit) == [("✓ " if site is chosen else "") + site.name for site in catalog[20:30]]
    assert await sites_of(USER_ID) == sorted([*POPULAR_SITES, chosen.slug])
    assert f"You follow: Codeforces, AtCoder, LeetCode, CodeChef, {chosen.name}." in edit.text


@pytest.mark.parametrize("data", [
    "site:nosuchsite:0", f"site:{UNLISTED}:0", "site:Codeforces:0", "site:codeforces:100", "site:codeforces:-1",
    "site:codeforces", "site:codeforces:0:0", "site:" + "a" * 41 + ":0", "sites:100", "sites:-1", "sites:", "sites:x",
    "sites-done:1"])
async def test_a_forged_site_button_is_out_of_date_and_changes_nothing(telegram, data):
    await fill_catalog(60)
    await telegram.reply_to(private_message("/sites"))
    answer = await telegram.reply_to(callback(data), "answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert await sites_of(USER_ID) == list(POPULAR_SITES)
    assert telegram.fake.sent("editMessageText") == []


async def test_a_page_past_the_last_shows_the_last(telegram):
    await telegram.reply_to(private_message("/sites"))
    edit = await edited_by(telegram, SitesPage(page=99).pack())
    pages = -(-len(await listed_sites()) // PAGE_SIZE)
    assert f"Page {pages} of {pages}." in edit.text


async def test_done_leaves_the_summary_without_buttons(telegram):
    await telegram.reply_to(private_message("/sites"))
    edit = await edited_by(telegram, "sites-done")
    assert edit.text == "You follow: Codeforces, AtCoder, LeetCode, CodeChef."
    assert edit.buttons() == []


async def test_clist_sites_are_followed_by_text_and_many_are_summed_up(telegram):
    added = await fill_catalog(60)
    reply = await telegram.reply_to(private_message("/subscribe kaggle, TOPH"))
    assert "You follow: Codeforces, AtCoder, LeetCode, CodeChef, Kaggle, toph." in reply.text
    reply = await telegram.reply_to(private_message("/subscribe " + " ".join(added)))
    assert reply.text.startswith("You follow: Codeforces, AtCoder, LeetCode, CodeChef, ")
    assert f"and {len(added) + 4 - 12} more sites." in reply.text and len(reply.text) < 400
    assert await sites_of(USER_ID) == sorted({*POPULAR_SITES, *added})
