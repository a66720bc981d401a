"""Updates to send to the bot, built on the real payloads in ../shared/fixtures/telegram/ (each builder
starts from a captured update and changes only what the test is about)."""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

from tests.captures import capture_json

TG = "telegram/silikidi_real_2021-10/"
USER_ID = 1850121251  # JOHN DOE of the captures
GROUP_ID = -713953955  # GROUPME of the captures
_update_ids = itertools.count(700_000_000)


def _base(name: str) -> dict[str, Any]:
    update = copy.deepcopy(capture_json(TG + name))
    update["update_id"] = next(_update_ids)
    return update


def _with_text(message: dict[str, Any], text: str) -> dict[str, Any]:
    message["text"] = text
    message["date"] = int(time.time())
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    else:
        message.pop("entities", None)
    return message


def private_message(text: str, user_id: int = USER_ID, language_code: str = "en") -> dict[str, Any]:
    """A private-chat message (the captured deep-link /start, with another text)."""
    update = _base("DEEP-LINKING-START.json")
    message = _with_text(update["message"], text)
    message["from"].update(id=user_id, language_code=language_code)
    message["chat"]["id"] = user_id
    return update


def group_message(text: str, user_id: int = USER_ID, chat_id: int = GROUP_ID,
                  language_code: str = "en") -> dict[str, Any]:
    """A message in a group (the captured `/start@simrsjsonbot` in GROUPME, with another text)."""
    update = _base("TEXT-GROUP.json")
    message = _with_text(update["message"], text)
    message["from"].update(id=user_id, language_code=language_code)
    message["chat"]["id"] = chat_id
    message["chat"]["all_members_are_administrators"] = False
    return update


def callback(data: str, chat_id: int = USER_ID, user_id: int = USER_ID, message_id: int = 391,
             chat_type: str = "private", language_code: str = "en") -> dict[str, Any]:
    """A button press (the captured callback_query, with other data) on one of the bot's messages."""
    update = _base("INLINE-KEYBOARD-RESULT.json")
    query = update["callback_query"]
    query["id"] = str(update["update_id"])
    query["data"] = data
    query["from"].update(id=user_id, language_code=language_code)
    query["message"]["message_id"] = message_id
    query["message"]["chat"] = {"id": chat_id, "type": chat_type, "title": "GROUPME"} if chat_type != "private" \
        else {**query["message"]["chat"], "id": chat_id}
    return update


def inline_query(query: str, user_id: int = USER_ID, language_code: str = "en") -> dict[str, Any]:
    """An inline query (Telegram's documented example; it lacks `is_bot`, which real updates carry)."""
    update = copy.deepcopy(capture_json("telegram/doc_example_update_inline_query.json"))
    update["update_id"] = next(_update_ids)
    update["inline_query"]["id"] = str(update["update_id"])
    update["inline_query"]["query"] = query
    update["inline_query"]["from"].update(id=user_id, is_bot=False, language_code=language_code)
    update["inline_query"]["from"].pop("type", None)
    return update


def my_chat_member(status: str, chat_id: int = USER_ID, chat_type: str = "private") -> dict[str, Any]:
    """The bot's own membership changed (blocked, kicked, added back); built from a captured message's
    chat and user, as no capture shows this update."""
    source = _base("TEXT-GROUP.json")["message"]
    chat = {"id": chat_id, "type": chat_type, "title": source["chat"]["title"]} if chat_type != "private" \
        else {"id": chat_id, "type": "private", "first_name": source["from"]["first_name"]}
    bot_user = {"id": 2200529744, "is_bot": True, "first_name": "Test bot", "username": "simrsjsonbot"}
    old, new = ("member", status) if status in ("kicked", "left") else ("left", status)
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": chat, "from": source["from"], "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"status": new, "user": bot_user, **({"until_date": 0} if new == "kicked" else {})},
        },
    }


def migration(old_chat_id: int, new_chat_id: int) -> list[dict[str, Any]]:
    """The two service messages Telegram sends when a group becomes a supergroup."""
    to_message = group_message("", chat_id=old_chat_id)
    to_message["message"].pop("text")
    to_message["message"]["migrate_to_chat_id"] = new_chat_id
    from_message = group_message("", chat_id=new_chat_id)
    from_message["message"].pop("text")
    from_message["message"]["chat"]["type"] = "supergroup"
    from_message["message"]["migrate_from_chat_id"] = old_chat_id
    return [to_message, from_message]


def channel_post(text: str, chat_id: int = -1001500000000) -> dict[str, Any]:
    """A post in a channel (a captured group message turned into what Telegram sends for channels: no
    sender, the channel as `sender_chat`)."""
    update = _base("TEXT-GROUP.json")
    post = _with_text(update.pop("message"), text)
    post.pop("from")
    post["chat"] = {"id": chat_id, "title": "Contest news", "type": "channel"}
    post["sender_chat"] = post["chat"]
    update["channel_post"] = post
    return update
