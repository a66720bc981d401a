"""/help lists every command of the menu the bot registers with Telegram, in the chat's language."""

from __future__ import annotations

import re

from tests.bot.updates import private_message


async def registered_menus(telegram) -> dict[str, list[dict[str, str]]]:
    """The menus the bot sets at start (setMyCommands at the fake Bot API), by language ("" is the default)."""
    await telegram.dispatcher.emit_startup(bot=telegram.bot)
    calls = await telegram.fake.wait_for("setMyCommands")
    return {call.params.get("language_code", ""): call.params["commands"] for call in calls
            if "scope" not in call.params or call.params["scope"].get("type") == "default"}


def listed_commands(text: str) -> list[str]:
    """The commands that start a line of /help: "/upcoming — Next contests" -> "upcoming"."""
    return re.findall(r"^/([a-z]+) — ", text, flags=re.MULTILINE)


async def test_help_lists_every_command_of_the_menu_with_its_description(telegram):
    menus = await registered_menus(telegram)
    reply = await telegram.reply_to(private_message("/help"))
    menu = menus[""]
    assert listed_commands(reply.text) == [command["command"] for command in menu]
    for command in menu:
        assert f"/{command['command']} — {command['description']}" in reply.text
    assert "@simrsjsonbot codeforces" in reply.text and "{bot}" not in reply.text


async def test_help_in_russian_lists_the_russian_menu(telegram):
    menus = await registered_menus(telegram)
    reply = await telegram.reply_to(private_message("/help", language_code="ru"))
    menu = menus["ru"]
    assert listed_commands(reply.text) == [command["command"] for command in menu]
    for command in menu:
        assert f"/{command['command']} — {command['description']}" in reply.text
    assert "Что я умею" in reply.text
