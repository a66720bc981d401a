"""Messages no feature took: the bot is never silent to someone who talks to it.

In a private chat an unknown command or any other message gets a short pointer to /help and /upcoming. In groups
and channels people talk to each other, so the bot answers only what is addressed to it: a command with its
@name, a mention of it, or a reply to one of its messages. A command addressed to another bot, a message posted
through the bot's inline mode, and everything else stay unanswered. Include this router last (after stale): it
takes every message the feature routers left.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape

from aiogram import F, Router
from aiogram.enums import ContentType
from aiogram.filters import Command
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from bot.timezone import ZonePick
from models.account import Account
from notify.zones import parse_zone, zone_display

#: an unknown command is quoted back up to this many characters
SHOWN_COMMAND = 32
#: what a person writes or sends (not the service messages Telegram adds to a chat: pins, joins, access granted)
SAID = frozenset({ContentType.TEXT, ContentType.PHOTO, ContentType.VIDEO, ContentType.DOCUMENT, ContentType.AUDIO,
                  ContentType.VOICE, ContentType.VIDEO_NOTE, ContentType.ANIMATION, ContentType.STICKER,
                  ContentType.LOCATION, ContentType.CONTACT, ContentType.POLL, ContentType.DICE})


def command_of(message: Message) -> tuple[str, str | None] | None:
    """The command a message starts with and the bot it names ("/foo@some_bot x" -> ("foo", "some_bot")); None when
    it starts with none."""
    text = message.text or ""
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    command = Command.extract_command(text)
    return command.command, command.mention


def mentions(message: Message, username: str) -> bool:
    """Whether the message's text mentions @username (read from the text: entities' offsets are the sender's word)."""
    text = message.text or message.caption or ""
    return re.search(rf"@{re.escape(username)}\b", text, re.IGNORECASE) is not None


def replies_to(message: Message, me: User) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == me.id


def addressed(message: Message, me: User) -> bool:
    """Whether a message in a group or channel is meant for the bot: its command names the bot, it mentions the
    bot, or it replies to the bot."""
    username = (me.username or "").lower()
    command = command_of(message)
    if command is not None:
        return bool(username) and (command[1] or "").lower() == username
    return replies_to(message, me) or (bool(username) and mentions(message, username))


def pointer(message: Message) -> str:
    """What the bot says to a message it has no answer for."""
    command = command_of(message)
    if command is not None:
        name = command[0][:SHOWN_COMMAND]
        return _("I don't know the command /{command}. /upcoming lists the next contests; /help shows everything I "
                 "can do.").format(command=escape(name, quote=False))
    return _("I answer commands only. /upcoming lists the next contests; /help shows everything I can do.")


def zone_offer(message: Message, account: Account | None) -> tuple[str, InlineKeyboardMarkup] | None:
    """A private message that names a time zone ("Tokyo", "MSK", after the /timezone screen said "send a city") is
    answered with a button that sets it: nothing is changed without the person's tap."""
    text = (message.text or "").strip()
    if account is None or message.chat.type != "private" or not text or len(text) > 64 or text.startswith("/"):
        return None
    zone = parse_zone(text)
    if zone is None:
        return None
    shown = zone_display(zone, account.language, datetime.now(UTC))
    button = InlineKeyboardButton(text=_("Set {zone}").format(zone=shown), callback_data=ZonePick(zone=zone).pack())
    question = _("Is {zone} your time zone? Tap the button to use it for every time I show.").format(
        zone=escape(shown, quote=False))
    return question, InlineKeyboardMarkup(inline_keyboard=[[button]])


async def answer_the_unanswered(message: Message, account: Account | None = None) -> None:
    me = await message.bot.me()
    if message.via_bot is not None and message.via_bot.id == me.id:
        return  # a contest shared through the bot's inline mode: said by the person, to others
    if message.chat.type != "private" and not addressed(message, me):
        return
    command = command_of(message)
    if command is not None and command[1] is not None and command[1].lower() != (me.username or "").lower():
        return  # another bot's command, also in a private chat
    offer = zone_offer(message, account)
    if offer is not None:
        await message.answer(offer[0], reply_markup=offer[1])
        return
    await message.answer(pointer(message))


def make_router() -> Router:
    """Include it last: it takes every message the feature routers left."""
    router = Router(name="fallback")
    router.message.register(answer_the_unanswered, F.content_type.in_(SAID))
    return router
