"""The bot is never silent to someone talking to it (bot/fallback.py), and stays quiet in groups and channels unless
addressed; what other features answer still reaches them, with no pointer on top."""

from __future__ import annotations

from typing import Any

from models.account import Account
from tests.bot.test_webhook_properties import handled
from tests.bot.updates import GROUP_ID, USER_ID, callback, channel_post, group_message, private_message

BOT = "simrsjsonbot"  # the fake Bot API's getMe


async def only_reply(telegram, update: dict[str, Any]) -> str:
    """Send an update, wait until it is handled; the one message it caused (a second one fails the test)."""
    before = len(telegram.fake.sent())
    assert await telegram.send(update) == 200
    await handled(telegram)
    replies = telegram.fake.sent()[before:]
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0].text


async def no_reply(telegram, update: dict[str, Any]) -> None:
    before = len(telegram.fake.sent())
    assert await telegram.send(update) == 200
    await handled(telegram)
    assert telegram.fake.sent()[before:] == []


def replying_to_the_bot(update: dict[str, Any]) -> dict[str, Any]:
    """The update's message as a reply to one of the bot's messages."""
    replied = {key: update["message"][key] for key in ("message_id", "date", "chat")}
    update["message"]["reply_to_message"] = {**replied, "text": "⏰ Starting in 10 min:",
                                             "from": {"id": 2200529744, "is_bot": True, "first_name": "Test bot",
                                                      "username": BOT}}
    return update


async def test_an_unknown_command_in_a_private_chat_points_at_help(telegram):
    text = await only_reply(telegram, private_message("/frobnicate now"))
    assert "I don't know the command /frobnicate." in text
    assert "/upcoming" in text and "/help" in text


async def test_free_text_in_a_private_chat_points_at_help(telegram):
    text = await only_reply(telegram, private_message("hello, when is the next codeforces round?"))
    assert text.startswith("I answer commands only.") and "/upcoming" in text and "/help" in text


async def test_the_pointer_speaks_the_chat_language(telegram):
    text = await only_reply(telegram, private_message("привет", language_code="ru"))
    assert text.startswith("Я понимаю только команды.") and "/upcoming" in text and "/help" in text
    text = await only_reply(telegram, private_message("/привет", language_code="ru"))
    assert text.startswith("Я не знаю команды /привет.")


async def test_an_unknown_command_is_quoted_escaped_and_short(telegram):
    text = await only_reply(telegram, private_message("/<b>" + "x" * 100))
    assert "/&lt;b&gt;" + "x" * 29 + "." in text and "x" * 30 not in text and "<b>" not in text


async def test_group_chatter_gets_no_answer(telegram):
    await no_reply(telegram, group_message("anyone doing the round tonight?"))
    await no_reply(telegram, group_message("/frobnicate"))  # a command of some other bot, maybe
    await no_reply(telegram, group_message("/frobnicate@another_bot"))
    await no_reply(telegram, group_message("/upcoming@another_bot"))


async def test_an_unknown_command_addressed_to_the_bot_in_a_group_gets_the_pointer(telegram):
    text = await only_reply(telegram, group_message(f"/frobnicate@{BOT}"))
    assert "I don't know the command /frobnicate." in text and "/help" in text
    assert telegram.fake.sent()[-1].chat_id == GROUP_ID


async def test_a_reply_to_the_bot_in_a_group_gets_the_pointer(telegram):
    text = await only_reply(telegram, replying_to_the_bot(group_message("what does this mean?")))
    assert text.startswith("I answer commands only.")


async def test_a_mention_of_the_bot_in_a_group_gets_the_pointer(telegram):
    update = group_message(f"@{BOT} are you there?")
    update["message"]["entities"] = [{"offset": 0, "length": len(BOT) + 1, "type": "mention"}]
    assert (await only_reply(telegram, update)).startswith("I answer commands only.")


async def test_channel_posts_get_no_pointer(telegram):
    await no_reply(telegram, channel_post("Round 1000 starts at 17:35, good luck everyone!"))
    await no_reply(telegram, channel_post("/frobnicate"))
    assert "I don't know the command /frobnicate." in await only_reply(telegram, channel_post(f"/frobnicate@{BOT}"))


async def test_what_features_answer_gets_no_pointer_on_top(telegram):
    """Each of these is answered by its own feature, once: the fallback takes only what nobody took."""
    await only_reply(telegram, private_message("/start"))
    assert "Tokyo" in await only_reply(telegram, private_message("/timezone Asia/Tokyo"))
    assert "No email address yet" in await only_reply(telegram, private_message("/email"))
    assert "<b>What I can do</b>" in await only_reply(telegram, private_message("/help"))
    assert "web site" in await only_reply(telegram, private_message("/link"))  # no web in this test
    assert "not valid any more" in await only_reply(telegram, private_message("/start " + "t" * 32))
    await only_reply(telegram, group_message(f"/upcoming@{BOT}"))
    await only_reply(telegram, channel_post("/timezone Europe/Berlin"))


async def test_a_contest_shared_through_inline_mode_gets_no_answer(telegram):
    update = private_message("Codeforces Round 1000 (Div. 2) · Sat, 28 Nov, 17:35 (UTC+3)")
    update["message"]["via_bot"] = {"id": 2200529744, "is_bot": True, "first_name": "Test bot", "username": BOT}
    await no_reply(telegram, update)


async def test_service_messages_get_no_answer(telegram):
    update = private_message("")
    update["message"].pop("text")
    update["message"]["write_access_allowed"] = {"from_request": True}
    await no_reply(telegram, update)


async def zone_of_the_chat() -> str:
    return (await Account.get(telegram_chats__chat_id=USER_ID)).timezone


async def test_a_zone_typed_in_a_private_chat_is_offered_as_a_button_and_set_by_a_tap(telegram):
    before = len(telegram.fake.sent())
    assert await telegram.send(private_message("Tokyo")) == 200
    await handled(telegram)
    [offer] = telegram.fake.sent()[before:]
    assert offer.text.startswith("Is Tokyo (UTC+9) your time zone?")
    [button] = offer.buttons()
    assert button["text"] == "Set Tokyo (UTC+9)"
    assert await zone_of_the_chat() == "UTC"  # nothing changes without the tap
    assert await telegram.send(callback(button["callback_data"], message_id=offer.result["message_id"])) == 200
    await handled(telegram)
    assert await zone_of_the_chat() == "Asia/Tokyo"


async def test_a_zone_in_russian_or_as_an_abbreviation_is_offered_too(telegram):
    text = await only_reply(telegram, private_message("Москва", language_code="ru"))
    assert text.startswith("Ваш часовой пояс — Москва (UTC+3)?")
    text = await only_reply(telegram, private_message("msk", user_id=USER_ID + 1))  # a new chat, in English
    assert text.startswith("Is Moscow (UTC+3) your time zone?")


async def test_a_zone_named_in_a_group_is_chatter(telegram):
    await no_reply(telegram, group_message("Tokyo"))
