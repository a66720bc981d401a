"""The account behind a Telegram chat: found by chat id, created with sensible defaults on first contact."""

from __future__ import annotations

from aiogram.types import Chat, User
from tortoise.exceptions import IntegrityError

from models.account import Account, TelegramChat
from models.selection import POPULAR_SITES

ACCOUNT_KIND = {"private": "person", "group": "group", "supergroup": "group", "channel": "channel"}


def chat_title(chat: Chat) -> str | None:
    return chat.title or chat.username or " ".join(filter(None, (chat.first_name, chat.last_name))) or None


async def chat_account(chat: Chat, language: str) -> TelegramChat:
    """The chat's row with its account loaded; new chats get an account with the default settings."""
    known = await TelegramChat.get_or_none(chat_id=chat.id).select_related("account")
    if known is not None:
        return known
    account = await Account.create(kind=ACCOUNT_KIND.get(chat.type, "person"), language=language,
                                   sites=list(POPULAR_SITES))
    try:
        return await TelegramChat.create(chat_id=chat.id, account=account, chat_type=chat.type,
                                         title=chat_title(chat))
    except IntegrityError:  # a second update of the same new chat got here first
        await account.delete()
        return await TelegramChat.get(chat_id=chat.id).select_related("account")


def private_chat_of(user: User) -> Chat:
    """A user's private chat with the bot (its id is the user's id): used for inline queries."""
    return Chat(id=user.id, type="private", username=user.username, first_name=user.first_name,
                last_name=user.last_name)


async def follow_migration(old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its settings move to the new chat id. (The first update from the new
    id may already have made a fresh account for it: that one gives way to the group's own.)"""
    old = await TelegramChat.get_or_none(chat_id=old_chat_id)
    if old is None:
        return
    fresh = await TelegramChat.get_or_none(chat_id=new_chat_id)
    if fresh is not None:
        await Account.filter(id=fresh.account_id).delete()  # cascades to the fresh chat row
    await TelegramChat.filter(id=old.id).update(chat_id=new_chat_id, chat_type="supergroup")


async def set_active(chat_id: int, active: bool) -> None:
    await TelegramChat.filter(chat_id=chat_id).update(active=active)
