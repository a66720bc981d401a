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
