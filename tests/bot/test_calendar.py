"""/calendar against the fake Bot API: the personal feed's address (served by the same web app, fetched over
HTTP), the reset button that asks first and then makes the old address 404, admins only in groups, and Russian."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from icalendar import Calendar

from bot.calendar import CalendarCancel, CalendarReset, CalendarResetYes, feed_url, link_tag
from bot.screens import BACK, OpenSection
from models.account import Account
from tests.bot.conftest import ADMIN_ID, BotUnderTest
from tests.bot.run import run_with_bot
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message

pytestmark = pytest.mark.db

FEED = re.compile(r"https?://\S+/calendar/([A-Za-z0-9_-]+)\.ics")


@pytest.fixture
async def bot(telegram: BotUnderTest) -> AsyncIterator[BotUnderTest]:
    """The bot with feed links pointing at the web app that serves its webhook (and the feeds), as
    contestbell/telegram.py sets them up in a process."""
    telegram.dispatcher["base_url"] = str(telegram.client.make_url("")).rstrip("/")
    yield telegram


def token_in(text: str) -> str:
    match = FEED.search(text)
    assert match, text
    return match.group(1)


async def feed_status(bot: BotUnderTest, token: str) -> int:
    response = await bot.client.get(f"/calendar/{token}.ics")
    if response.status == 200:
        Calendar.from_ical(await response.read())  # it is a calendar
    return response.status


async def account_of(chat_id: int) -> Account:
    return await Account.get(telegram_chats__chat_id=chat_id)


def test_feed_url_joins_the_base_and_the_token():
    assert feed_url("https://bell.example.org/", "abc_-1") == "https://bell.example.org/calendar/abc_-1.ics"


async def test_calendar_shows_a_working_feed_url_with_a_reset_button(bot):
    reply = await bot.reply_to(private_message("/calendar"))

    token = token_in(reply.text)
    assert token == (await account_of(USER_ID)).calendar_token and len(token) >= 22
    assert f"{bot.client.make_url('')}".rstrip("/") + f"/calendar/{token}.ics" in reply.text
    assert "Google Calendar" in reply.text
    assert [(b["text"], b["callback_data"]) for b in reply.buttons()] == [("Reset link", CalendarReset().pack())]
    assert await feed_status(bot, token) == 200
    again = await bot.reply_to(private_message("/calendar"))
    assert token_in(again.text) == token  # made once, shown again


async def ask(bot: BotUnderTest, **where) -> list[tuple[str, str]]:
    """Press "Reset link": the question's buttons."""
    question = await bot.reply_to(callback(CalendarReset().pack(), **where), method="editMessageText")
    assert "The old link stops working" in question.text and not FEED.search(question.text)
    return [(b["text"], b["callback_data"]) for b in question.buttons()]


async def test_reset_asks_first_and_yes_makes_a_new_link_and_the_old_one_404(bot):
    old = token_in((await bot.reply_to(private_message("/calendar"))).text)

    assert await ask(bot) == [("Yes, reset", CalendarResetYes(link=link_tag(old)).pack()),
                              ("Cancel", CalendarCancel().pack())]
    assert (await account_of(USER_ID)).calendar_token == old and await feed_status(bot, old) == 200

    edit = await bot.reply_to(callback(CalendarResetYes(link=link_tag(old)).pack()), method="editMessageText")

    new = token_in(edit.text)
    assert new != old and (await account_of(USER_ID)).calendar_token == new
    assert [b["text"] for b in edit.buttons()] == ["Reset link"]
    answers = await bot.fake.wait_for("answerCallbackQuery", count=2)
    assert "old one no longer works" in answers[-1].params["text"]
    assert await feed_status(bot, old) == 404
    assert await feed_status(bot, new) == 200


async def test_cancel_keeps_the_link_and_shows_the_calendar_again(bot):
    old = token_in((await bot.reply_to(private_message("/calendar"))).text)
    await ask(bot)
    edit = await bot.reply_to(callback(CalendarCancel().pack()), method="editMessageText")
    assert token_in(edit.text) == old and [b["text"] for b in edit.buttons()] == ["Reset link"]
    assert (await account_of(USER_ID)).calendar_token == old and await feed_status(bot, old) == 200


@pytest.mark.parametrize("forged", ["AAAAAAAA", "short", "", "AAAAAAAA:1", "../../..", "AAAAAAAAA"])
async def test_a_forged_yes_is_out_of_date_and_keeps_the_link(bot, forged):
    old = token_in((await bot.reply_to(private_message("/calendar"))).text)
    answer = await bot.reply_to(callback(f"calendar-yes:{forged}"), method="answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert (await account_of(USER_ID)).calendar_token == old and bot.fake.sent("editMessageText") == []


async def test_a_yes_left_from_before_an_earlier_reset_is_out_of_date(bot):
    old = token_in((await bot.reply_to(private_message("/calendar"))).text)
    stale_yes = CalendarResetYes(link=link_tag(old)).pack()
    await bot.reply_to(callback(stale_yes), method="editMessageText")
    new = (await account_of(USER_ID)).calendar_token
    answer = await bot.reply_to(callback(stale_yes), method="answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert (await account_of(USER_ID)).calendar_token == new and await feed_status(bot, new) == 200


async def test_in_a_group_anyone_sees_the_link_but_only_administrators_reset_it(bot):
    shown = await bot.reply_to(group_message("/calendar@simrsjsonbot"))
    token = token_in(shown.text)

    for data in (CalendarReset().pack(), CalendarResetYes(link=link_tag(token)).pack()):
        pressed = callback(data, chat_id=GROUP_ID, chat_type="group")
        refusal = await bot.reply_to(pressed, method="answerCallbackQuery")
        assert "only the chat's administrators" in refusal.params["text"]
    assert bot.fake.sent("editMessageText") == []
    assert (await account_of(GROUP_ID)).calendar_token == token and await feed_status(bot, token) == 200

    assert len(await ask(bot, chat_id=GROUP_ID, chat_type="group", user_id=ADMIN_ID)) == 2
    by_admin = callback(CalendarResetYes(link=link_tag(token)).pack(), chat_id=GROUP_ID, chat_type="group",
                        user_id=ADMIN_ID)
    edit = await bot.reply_to(by_admin, method="editMessageText")
    assert token_in(edit.text) != token and await feed_status(bot, token) == 404


async def test_the_settings_section_button_draws_the_calendar_screen_in_place(bot):
    reply = await bot.reply_to(callback(OpenSection(section="calendar").pack()), method="editMessageText")
    assert token_in(reply.text) == (await account_of(USER_ID)).calendar_token
    assert [b["callback_data"] for b in reply.buttons()] == [CalendarReset().pack(), BACK]


async def test_without_a_base_url_the_bot_says_feeds_are_off(telegram):
    reply = await telegram.reply_to(private_message("/calendar"))
    assert "not available" in reply.text and not FEED.search(reply.text)
    assert (await account_of(USER_ID)).calendar_token is None


async def test_calendar_speaks_russian(bot):
    """Needs the Russian catalog with /work/tmp-i18n/feeds.json merged."""
    reply = await bot.reply_to(private_message("/calendar", language_code="ru"))
    assert "Ваш календарь" in reply.text and "Google Календарь" in reply.text
    assert [b["text"] for b in reply.buttons()] == ["Сбросить ссылку"]
    question = await bot.reply_to(callback(CalendarReset().pack(), language_code="ru"), method="editMessageText")
    assert [b["text"] for b in question.buttons()] == ["Да, сбросить", "Отмена"]
    token = (await account_of(USER_ID)).calendar_token
    edit = await bot.reply_to(callback(CalendarResetYes(link=link_tag(token)).pack(), language_code="ru"),
                              method="editMessageText")
    assert "Ваш календарь" in edit.text


async def test_contestbell_run_gives_the_bot_its_own_address_for_feed_links(db, tmp_path):
    """The wiring in a real process: the link /calendar prints is served by that process."""
    async with run_with_bot(db, tmp_path / "run.log") as (fake, port):
        fake.queue_update(private_message("/calendar"))
        [reply] = await fake.wait_for("sendMessage", chat_id=USER_ID, timeout=30)
        assert f"http://127.0.0.1:{port}/calendar/" in reply.text
        async with aiohttp.ClientSession() as session, session.get(FEED.search(reply.text).group(0)) as response:
            assert response.status == 200
            assert "BEGIN:VCALENDAR" in await response.text()
