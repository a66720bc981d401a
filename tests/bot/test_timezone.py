"""/timezone: setting the zone by name or offset, the keyboard of common zones, admin checks, bad input, and
the local time shown ("now there"), which must follow daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.screens import OpenSection
from bot.timezone import ZonePick, now_there
from models.account import Account
from notify.zones import COMMON_ZONES, ZONES_BY_LANGUAGE, zone_display
from tests.bot.conftest import ADMIN_ID
from tests.bot.updates import GROUP_ID, USER_ID, callback, group_message, private_message


async def zone_of_chat(chat_id: int) -> str:
    return (await Account.get(telegram_chats__chat_id=chat_id)).timezone


def clocks(zone: ZoneInfo | None, before: datetime, offset: timedelta = timedelta(0)) -> set[str]:
    """'HH:MM' in the zone from `before` to now (the reply may have been written a minute later)."""
    after = datetime.now(UTC)
    moments = {before, after}
    return {(m.astimezone(zone) if zone else m + offset).strftime("%H:%M") for m in moments}


# the pure part: local time "now there", DST included


@pytest.mark.parametrize(("zone", "utc", "expected"), [
    # Berlin springs forward at 01:00 UTC on 31 March 2024: 02:00 CET becomes 03:00 CEST
    ("Europe/Berlin", datetime(2024, 3, 31, 0, 30, tzinfo=UTC), "01:30, Sun 31 Mar"),
    ("Europe/Berlin", datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "03:30, Sun 31 Mar"),
    # New York falls back at 06:00 UTC on 3 November 2024: 01:30 happens twice
    ("America/New_York", datetime(2024, 11, 3, 5, 30, tzinfo=UTC), "01:30, Sun 3 Nov"),
    ("America/New_York", datetime(2024, 11, 3, 6, 30, tzinfo=UTC), "01:30, Sun 3 Nov"),
    ("America/New_York", datetime(2024, 11, 3, 7, 30, tzinfo=UTC), "02:30, Sun 3 Nov"),
    ("Europe/Minsk", datetime(2024, 7, 1, 21, 15, tzinfo=UTC), "00:15, Tue 2 Jul"),
    ("UTC-04:30", datetime(2024, 7, 1, 2, 0, tzinfo=UTC), "21:30, Sun 30 Jun"),
    ("UTC+14:00", datetime(2024, 7, 1, 12, 0, tzinfo=UTC), "02:00, Tue 2 Jul"),
])
def test_now_there_follows_daylight_saving(zone, utc, expected):
    assert now_there(zone, "en", utc) == expected
    if "/" in zone:  # the same as zoneinfo says
        assert now_there(zone, "en", utc).startswith(utc.astimezone(ZoneInfo(zone)).strftime("%H:%M, "))


def test_now_there_speaks_the_chat_language():
    assert now_there("Europe/Berlin", "ru", datetime(2024, 3, 31, 1, 30, tzinfo=UTC)) == "03:30, вс 31 мар."


# the command


def shown(zone: str, language: str = "en") -> str:
    return zone_display(zone, language, datetime.now(UTC))


async def test_set_an_iana_zone_in_any_case_and_see_the_local_time(telegram):
    before = datetime.now(UTC)
    reply = await telegram.reply_to(private_message("/timezone america/new_york"))
    assert reply.text.startswith(f"Time zone set to {shown('America/New_York')}. It is ")
    assert reply.text.startswith(tuple(f"Time zone set to New York (UTC\u2212{hours}). " for hours in (4, 5)))
    assert any(f"It is {clock}, " in reply.text for clock in clocks(ZoneInfo("America/New_York"), before))
    assert await zone_of_chat(USER_ID) == "America/New_York"


async def test_set_a_fixed_offset(telegram):
    before = datetime.now(UTC)
    reply = await telegram.reply_to(private_message("/timezone UTC-04:30"))
    assert reply.text.startswith("Time zone set to UTC\u22124:30. It is ")
    assert any(f"It is {clock}, " in reply.text for clock in clocks(None, before, -timedelta(hours=4, minutes=30)))
    assert await zone_of_chat(USER_ID) == "UTC-04:30"
    reply = await telegram.reply_to(private_message("/timezone UTC+3"))
    assert "Time zone set to UTC+3." in reply.text
    assert await zone_of_chat(USER_ID) == "UTC+03:00"


@pytest.mark.parametrize(("typed", "zone"), [
    ("MSK", "Europe/Moscow"), ("msk", "Europe/Moscow"), ("Москва", "Europe/Moscow"), ("moscow", "Europe/Moscow"),
    ("Tokyo", "Asia/Tokyo"), ("токио", "Asia/Tokyo"), ("UTC+3", "UTC+03:00"), ("GMT-5", "UTC-05:00"),
    ("est", "America/New_York"), ("PST", "America/Los_Angeles"), ("CET", "Europe/Berlin"), ("IST", "Asia/Kolkata"),
    ("Europe/Moscow", "Europe/Moscow"), ("  new   YORK ", "America/New_York"),
])
async def test_common_names_and_abbreviations_are_stored_as_the_zone_they_mean(telegram, typed, zone):
    reply = await telegram.reply_to(private_message(f"/timezone {typed}"))
    assert reply.text.startswith(f"Time zone set to {shown(zone)}. It is ")
    assert await zone_of_chat(USER_ID) == zone


async def test_no_argument_shows_the_zone_and_the_common_zones(telegram):
    await telegram.reply_to(private_message("/timezone Europe/Moscow"))
    reply = await telegram.reply_to(private_message("/timezone"))
    assert "Your time zone is Moscow (UTC+3); it is " in reply.text
    buttons = reply.buttons()
    assert [b["text"].removeprefix("✓ ") for b in buttons] == [shown(zone) for zone in COMMON_ZONES]
    assert [b["text"] for b in buttons if b["text"].startswith("✓")] == ["✓ Moscow (UTC+3)"]
    assert [b["callback_data"] for b in buttons] == [ZonePick(zone=zone).pack() for zone in COMMON_ZONES]
    assert "Kolkata (UTC+5:30)" in [b["text"] for b in buttons] and buttons[-1]["text"] == "UTC"
    assert all(len(row) <= 2 for row in reply.markup()["inline_keyboard"])


async def test_a_russian_chat_is_offered_the_zones_of_russian_speakers_by_their_russian_names(telegram):
    await telegram.reply_to(private_message("/language ru"))
    reply = await telegram.reply_to(private_message("/timezone"))
    assert reply.text.startswith("Ваш часовой пояс: UTC, сейчас там ")
    assert "/timezone Токио" in reply.text
    texts = [b["text"] for b in reply.buttons()]
    assert texts == [shown(zone, "ru") for zone in ZONES_BY_LANGUAGE["ru"][:-1]] + ["✓ UTC"]
    assert texts[:3] == ["Москва (UTC+3)", shown("Europe/Kyiv", "ru"), "Минск (UTC+3)"]
    assert texts[1].startswith("Киев (UTC+")
    edit = await telegram.reply_to(callback(reply.buttons()[0]["callback_data"]), "editMessageText")
    assert edit.text.startswith("Готово! Часовой пояс: Москва (UTC+3), сейчас там ")
    assert await zone_of_chat(USER_ID) == "Europe/Moscow"


@pytest.mark.parametrize("typed", ["Mars/Phobos", "UTC+15", "UTC+3:75", "<b>bold</b>", "Мордор", "XYZT", "eastern"])
async def test_unknown_zone_explains_and_changes_nothing(telegram, typed):
    await telegram.reply_to(private_message("/timezone Asia/Tokyo"))
    reply = await telegram.reply_to(private_message(f"/timezone {typed}"))
    assert "Unknown time zone" in reply.text and "Nothing changed" in reply.text
    assert "/timezone Tokyo" in reply.text and "/timezone MSK" in reply.text and "/timezone UTC+3" in reply.text
    assert "<b>bold</b>" not in reply.text  # what people type is escaped
    assert len(reply.buttons()) == len(COMMON_ZONES)
    assert await zone_of_chat(USER_ID) == "Asia/Tokyo"


async def test_a_button_sets_the_zone_and_edits_the_message(telegram):
    await telegram.reply_to(private_message("/timezone"))
    edit = await telegram.reply_to(callback(ZonePick(zone="Asia/Tokyo").pack()), method="editMessageText")
    assert edit.text.startswith("Time zone set to Tokyo (UTC+9). It is ")
    assert int(edit.params["message_id"]) == 391
    assert [b["text"] for b in edit.buttons() if b["text"].startswith("✓")] == ["✓ Tokyo (UTC+9)"]
    answer = (await telegram.fake.wait_for("answerCallbackQuery"))[0]
    assert answer.params["text"] == "Time zone: Tokyo (UTC+9)"
    assert await zone_of_chat(USER_ID) == "Asia/Tokyo"


@pytest.mark.parametrize("data", ["tz:Mars/Phobos", "tz:MSK", "tz:europe/moscow", "tz:UTC+03:00", "tz:UTC+3",
                                  "tz:localtime", "tz:", "tz:Europe/Moscow:x", "tz:" + "A" * 60])
async def test_a_forged_button_changes_nothing(telegram, data):
    await telegram.reply_to(private_message("/start"))
    answer = await telegram.reply_to(callback(data), method="answerCallbackQuery")
    assert "out of date" in answer.params["text"]
    assert await zone_of_chat(USER_ID) == "UTC"
    assert telegram.fake.sent("editMessageText") == []


async def test_settings_button_opens_the_zone_screen(telegram):
    reply = await telegram.reply_to(callback(OpenSection(section="timezone").pack()), "editMessageText")
    assert "Your time zone is UTC" in reply.text and len(reply.buttons()) == len(COMMON_ZONES) + 1  # and Back
    await telegram.fake.wait_for("answerCallbackQuery")


async def test_in_a_group_only_administrators_change_the_zone(telegram):
    shown = await telegram.reply_to(group_message("/timezone@simrsjsonbot"))  # showing is open to everyone
    assert shown.chat_id == GROUP_ID and "Your time zone is UTC" in shown.text
    refusal = await telegram.reply_to(group_message("/timezone@simrsjsonbot Europe/Berlin"))
    assert "only the chat's administrators" in refusal.text
    pressed = callback(ZonePick(zone="Europe/Berlin").pack(), chat_id=GROUP_ID, chat_type="group")
    answer = await telegram.reply_to(pressed, method="answerCallbackQuery")
    assert "only the chat's administrators" in answer.params["text"]
    assert telegram.fake.sent("editMessageText") == []
    assert await zone_of_chat(GROUP_ID) == "UTC"

    done = await telegram.reply_to(group_message("/timezone@simrsjsonbot Europe/Berlin", user_id=ADMIN_ID))
    assert "Time zone set to Berlin (UTC+" in done.text
    assert await zone_of_chat(GROUP_ID) == "Europe/Berlin"
    pressed = callback(ZonePick(zone="Asia/Kolkata").pack(), chat_id=GROUP_ID, chat_type="group", user_id=ADMIN_ID)
    edit = await telegram.reply_to(pressed, method="editMessageText")
    assert "Time zone set to Kolkata (UTC+5:30)" in edit.text
    assert await zone_of_chat(GROUP_ID) == "Asia/Kolkata"


async def test_pressing_the_chosen_zone_again_is_not_an_error(telegram):
    """Telegram refuses an edit that changes nothing ("message is not modified"); that is no failure."""
    screen = await telegram.reply_to(private_message("/timezone"))
    press = callback(ZonePick(zone="Europe/Berlin").pack(), message_id=screen.result["message_id"])
    for _ in range(2):
        assert await telegram.send(press) == 200
    await telegram.fake.wait_for("answerCallbackQuery", count=2)
    assert (await Account.get(telegram_chats__chat_id=USER_ID)).timezone == "Europe/Berlin"
    assert not any("went wrong" in call.text for call in telegram.fake.sent())
    assert len(telegram.fake.sent("editMessageText")) == 2  # the second one was refused as unchanged
