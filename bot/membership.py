"""The bot's place in chats: removed or blocked -> the chat is deactivated; added back -> active again;
a group that became a supergroup keeps its settings under the new id."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import ChatMemberUpdated, Message

from models.chats import follow_migration, set_active

GONE = {"kicked", "left"}


async def membership_changed(update: ChatMemberUpdated) -> None:
    await set_active(update.chat.id, update.new_chat_member.status not in GONE)


async def migrated_to_supergroup(message: Message) -> None:
    await follow_migration(message.chat.id, message.migrate_to_chat_id)


async def migrated_from_group(message: Message) -> None:
    await follow_migration(message.migrate_from_chat_id, message.chat.id)


def make_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(membership_changed)
    router.message.register(migrated_to_supergroup, F.migrate_to_chat_id)
    router.message.register(migrated_from_group, F.migrate_from_chat_id)
    return router
