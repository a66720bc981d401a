"""Telegram chats come and go: deactivated when they block or remove the bot, moved when a group becomes a
supergroup. Used by the bot's membership updates and by the sender's 403 and migration answers."""

from __future__ import annotations

from models.account import Account, TelegramChat


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
