"""/sites, /subscribe, /unsubscribe: the ✓ keyboard, text commands, unknown names, group admin checks, and
that /upcoming's selection follows the chosen sites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.screens import OpenSection
from bot.sites import SiteToggle, changed, toggled
from models.account import Account
from models.contest import Contest
from models.selection import POPULAR_SITES, ContestFilter, upcoming
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message

ALL_NAMES = ["AtCoder", "CodeChef", "Codeforces", "Codeforces Gym", "HackerEarth", "LeetCode", "Luogu", "NowCoder"]
DEFAULT_KEYBOARD = ["✓ AtCoder", "✓ CodeChef", "✓ Codeforces", "Codeforces Gym", "HackerEarth", "✓ LeetCode",
                    "Luogu", "NowCoder"]


def test_changes_keep_the_registry_order():
    assert changed(["leetcode", "atcoder"], ["luogu", "atcoder"], follow=True) == ["atcoder", "leetcode", "luogu"]
    assert changed(["leetcode", "atcoder"], ["atcoder", "luogu"], follow=False) == ["leetcode"]
    assert toggled(["leetcode"], "atcoder") == ["atcoder", "leetcode"]
    assert toggled(["leetcode", "atcoder"], "atcoder") == ["leetcode"]


async def sites_of(chat_id: int) -> list[str] | None:
    return (await Account.get(telegram_chats__chat_id=chat_id)).sites


async def press(telegram, slug: str, **where) -> list[str]:
    """Press a site's button; the texts of the keyboard it is edited to."""
    before = len(telegram.fake.sent("editMessageText"))
    assert await telegram.send(callback(SiteToggle(slug=slug).pack(), **where)) == 200
    edit = (await telegram.fake.wait_for("editMessageText", count=before + 1))[before]
    assert edit.params["message_id"] == "391"
    return [b["text"] for b in edit.buttons()]


async def test_sites_shows_every_site_with_the_followed_ones_ticked(telegram):
    reply = await telegram.reply_to(private_message("/sites"))
    assert "You follow: AtCoder, CodeChef, Codeforces, LeetCode." in reply.text
    assert [b["text"] for b in reply.buttons()] == DEFAULT_KEYBOARD
    assert [len(row) for row in reply.markup()["inline_keyboard"]] == [2, 2, 2, 2]
    assert reply.buttons()[3]["callback_data"] == "site:codeforces-gym"


async def test_buttons_toggle_a_site_in_place(telegram):
    await telegram.reply_to(private_message("/sites"))
    keyboard = await press(telegram, "codeforces-gym")
    assert keyboard[3] == "✓ Codeforces Gym"
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "codeforces-gym", "leetcode"]
    keyboard = await press(telegram, "codeforces")
    assert keyboard[2:4] == ["Codeforces", "✓ Codeforces Gym"]
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces-gym", "leetcode"]
    edit = telegram.fake.sent("editMessageText")[-1]
    assert "You follow: AtCoder, CodeChef, Codeforces Gym, LeetCode." in edit.text
    assert len(telegram.fake.sent("answerCallbackQuery")) == 2


async def test_default_sites_become_an_explicit_list_on_the_first_change(telegram):
    await telegram.reply_to(private_message("/sites"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=None)
    shown = await telegram.reply_to(private_message("/sites"))
    assert [b["text"] for b in shown.buttons()] == DEFAULT_KEYBOARD
    keyboard = await press(telegram, "atcoder")
    assert keyboard[0] == "AtCoder"
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
    assert "You follow: AtCoder, CodeChef, Codeforces, LeetCode, Luogu, NowCoder." in reply.text
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "leetcode", "luogu", "nowcoder"]
    reply = await telegram.reply_to(private_message("/unsubscribe leetcode Luogu codeforces-gym"))
    assert "You follow: AtCoder, CodeChef, Codeforces, NowCoder." in reply.text
    assert await sites_of(USER_ID) == ["atcoder", "codechef", "codeforces", "nowcoder"]


async def test_unsubscribe_from_the_default_set(telegram):
    await telegram.reply_to(private_message("/sites"))
    await Account.filter(telegram_chats__chat_id=USER_ID).update(sites=None)
    await telegram.reply_to(private_message("/unsubscribe codechef"))
    assert await sites_of(USER_ID) == ["atcoder", "codeforces", "leetcode"]


@pytest.mark.parametrize("command", ["/subscribe luogu topcoder", "/unsubscribe atcoder <b>x</b>"])
async def test_an_unknown_name_lists_the_sites_and_changes_nothing(telegram, command):
    await telegram.reply_to(private_message("/sites"))
    reply = await telegram.reply_to(private_message(command))
    unknown = command.split()[-1]
    assert "Not a site" in reply.text and "Nothing changed." in reply.text
    assert ("“topcoder”" if unknown == "topcoder" else "“&lt;b&gt;x&lt;/b&gt;”") in reply.text
    assert "atcoder, codechef, codeforces, codeforces-gym, hackerearth, leetcode, luogu, nowcoder" in reply.text
    assert await sites_of(USER_ID) == list(POPULAR_SITES)


async def test_subscribe_without_names_asks_for_them(telegram):
    await telegram.reply_to(private_message("/sites"))
    reply = await telegram.reply_to(private_message("/subscribe"))
    assert "/subscribe atcoder leetcode" in reply.text
    assert await sites_of(USER_ID) == list(POPULAR_SITES)


async def test_group_members_see_but_only_admins_change(telegram):
    shown = await telegram.reply_to(group_message("/sites@simrsjsonbot"))
    assert [b["text"] for b in shown.buttons()] == DEFAULT_KEYBOARD
    refusal = await telegram.reply_to(group_message("/subscribe@simrsjsonbot luogu"))
    assert "only the chat's administrators" in refusal.text
    refusal = await telegram.reply_to(group_message("/unsubscribe@simrsjsonbot atcoder"))
    assert "only the chat's administrators" in refusal.text
    assert await telegram.send(callback(SiteToggle(slug="luogu").pack(), chat_id=GROUP_ID, chat_type="group")) == 200
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert "only the chat's administrators" in answer.text
    assert telegram.fake.sent("editMessageText") == []
    assert await sites_of(GROUP_ID) == list(POPULAR_SITES)

    keyboard = await press(telegram, "luogu", chat_id=GROUP_ID, user_id=ADMIN_ID, chat_type="group")
    assert "✓ Luogu" in keyboard
    done = await telegram.reply_to(group_message("/unsubscribe@simrsjsonbot atcoder", user_id=ADMIN_ID))
    assert "You follow: CodeChef, Codeforces, LeetCode, Luogu." in done.text
    assert await sites_of(GROUP_ID) == ["codechef", "codeforces", "leetcode", "luogu"]


async def test_settings_button_opens_the_sites_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="sites").pack()))
    assert [b["text"] for b in reply.buttons()] == DEFAULT_KEYBOARD
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_russian_needs_the_merged_catalog(telegram):
    reply = await telegram.reply_to(private_message("/sites", language_code="ru"))
    assert "Вы следите за: AtCoder, CodeChef, Codeforces, LeetCode." in reply.text


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
