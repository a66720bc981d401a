"""One account, many ways in: one-time link tokens that prove a person holds one way in (a Telegram chat, a web
session), merging two accounts once both are proved to be the same person's, and forgetting an account.

A merge keeps the older account's settings (usually the one `/start` made) and moves everything else to it:
chats, identities, email addresses, the feed address (the other's keeps working as an alias) and the sent-log
(so nothing is reminded twice).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise.transactions import in_transaction

from models.account import (
    Account,
    CalendarAlias,
    Delivery,
    DigestDelivery,
    DiscordWebhook,
    EmailAddress,
    LinkToken,
    MergedAccount,
    OAuthIdentity,
    TelegramChat,
    VerificationMail,
)

#: how long a link token works
LINK_LIFETIME = timedelta(minutes=10)
#: random bytes in a link token: 192 bits, 32 URL-safe characters
TOKEN_BYTES = 24
#: what a link token can look like; anything else is unknown without a query
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_DELIVERY_KEY = ("contest_id", "channel", "kind", "offset_seconds", "contest_start")


class Purpose(StrEnum):
    TELEGRAM = "telegram"  # made on the web, used as /start TOKEN in a private chat
    WEB = "web"  # made by /link in a private chat, opened in a browser


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_link_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


async def new_link_token(account_id: int, purpose: Purpose, now: datetime) -> str:
    """A fresh token for the account (expired ones are cleared out on the way)."""
    await LinkToken.filter(expires_at__lt=now).delete()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await LinkToken.create(digest=digest_of(token), purpose=purpose, account_id=account_id,
                           expires_at=now + LINK_LIFETIME)
    return token


async def use_link_token(token: str, purpose: Purpose, now: datetime) -> int | None:
    """The account of an unused, unexpired token made for `purpose`, which is used up by this call (of two
    callers at the same moment, one gets it); None for anything else."""
    if not looks_like_link_token(token):
        return None
    digest = digest_of(token)
    taken = await LinkToken.filter(digest=digest, purpose=purpose, used_at__isnull=True,
                                   expires_at__gt=now).update(used_at=now)
    if not taken:
        return None
    return await LinkToken.filter(digest=digest).first().values_list("account_id", flat=True)


async def merge_accounts(first_id: int, second_id: int) -> int:
    """Make one account of two (the same person proved both are theirs); returns the id of the one kept."""
    if first_id == second_id:
        return first_id
    async with in_transaction():
        older, newer = sorted(await Account.filter(id__in=[first_id, second_id]), key=lambda a: (a.created_at, a.id))
        for model in (TelegramChat, OAuthIdentity, EmailAddress, VerificationMail, CalendarAlias, DigestDelivery):
            await model.filter(account_id=newer.id).update(account_id=older.id)
        if not await DiscordWebhook.exists(account_id=older.id):  # the older account's webhook wins
            await DiscordWebhook.filter(account_id=newer.id).update(account_id=older.id)
        await move_feed_address(older, newer)
        await move_sent_log(older.id, newer.id)
        await MergedAccount.filter(kept_id=newer.id).update(kept_id=older.id)
        await MergedAccount.create(gone_id=newer.id, kept_id=older.id)
        await newer.delete()
    return older.id


async def current_id(account_id: int) -> int | None:
    """The account an id stands for now: itself, the one it was merged into, or None (forgotten)."""
    if await Account.exists(id=account_id):
        return account_id
    return await MergedAccount.filter(gone_id=account_id).first().values_list("kept_id", flat=True)


async def move_feed_address(kept: Account, gone: Account) -> None:
    """The kept account takes the other's feed address, as its own when it has none, else as an alias."""
    if gone.calendar_token is None:
        return
    await Account.filter(id=gone.id).update(calendar_token=None)
    if kept.calendar_token is None:
        await Account.filter(id=kept.id).update(calendar_token=gone.calendar_token)
    else:
        await CalendarAlias.create(token=gone.calendar_token, account_id=kept.id)


async def move_sent_log(kept_id: int, gone_id: int) -> None:
    """Reminders either account was sent (or has claimed) count for the merged one: a row the kept account has
    already is dropped, the others move."""
    kept = {tuple(row) for row in await Delivery.filter(account_id=kept_id).values_list(*_DELIVERY_KEY)}
    moving, dropping = [], []
    for row_id, *key in await Delivery.filter(account_id=gone_id).values_list("id", *_DELIVERY_KEY):
        (dropping if tuple(key) in kept else moving).append(row_id)
    if dropping:
        await Delivery.filter(id__in=dropping).delete()
    if moving:
        await Delivery.filter(id__in=moving).update(account_id=kept_id)


async def ways_in(account_id: int) -> int:
    """How a person can reach this account: its private Telegram chats and its sign-in identities."""
    chats = await TelegramChat.filter(account_id=account_id, chat_type="private").count()
    return chats + await OAuthIdentity.filter(account_id=account_id).count()


async def forget_account(account_id: int) -> None:
    """Delete the account and everything that belongs to it (chats, identities, addresses, sent-log, tokens and
    feed addresses go with it); the verification mails it asked for stay counted for their addresses."""
    await Account.filter(id=account_id).delete()
