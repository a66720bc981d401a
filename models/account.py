"""People and group chats, the identities that reach them, and the sent-log of reminders."""

from __future__ import annotations

import re
import secrets

from tortoise import fields
from tortoise.models import Model

DEFAULT_OFFSETS = (86400, 3600)
#: random bytes in a personal feed token: 192 bits, 32 URL-safe characters
CALENDAR_TOKEN_BYTES = 24
#: what a feed token can look like (the column holds 64 characters); anything else is unknown without a query
_CALENDAR_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: random bytes in the token of an email link: 256 bits, 43 URL-safe characters
EMAIL_TOKEN_BYTES = 32
#: what the token of an email link can look like; anything else is unknown without a query
_EMAIL_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")


def default_offsets() -> list[int]:
    """1 day and 1 hour before the start."""
    return list(DEFAULT_OFFSETS)


class Account(Model):
    """A person or a group chat with its preferences. Identities (Telegram, email, OAuth) attach to it."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16, default="person")  # person | group | channel
    timezone = fields.CharField(max_length=64, default="UTC")
    language = fields.CharField(max_length=8, default="en")
    #: site slugs to follow, null for the default (popular) set
    sites = fields.JSONField(null=True)
    include_keywords = fields.JSONField(default=list)
    exclude_keywords = fields.JSONField(default=list)
    min_duration = fields.IntField(null=True)
    max_duration = fields.IntField(null=True)
    #: seconds before the start at which to remind, e.g. [86400, 3600]
    reminder_offsets = fields.JSONField(default=default_offsets)
    paused = fields.BooleanField(default=False)
    #: the email digest: daily | weekly | null (off), at `digest_minute` minutes after local midnight, on
    #: `digest_weekday` (0 = Monday) when weekly
    digest = fields.CharField(max_length=8, null=True)
    digest_weekday = fields.SmallIntField(null=True)
    digest_minute = fields.SmallIntField(null=True)
    calendar_token = fields.CharField(max_length=64, unique=True, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"

    async def calendar_feed_token(self) -> str:
        """The token of this account's personal iCal feed, made on first use; two chats asking at the same
        moment get the same token (only the first write lands)."""
        if self.calendar_token is None:
            await Account.filter(id=self.id, calendar_token__isnull=True).update(calendar_token=new_calendar_token())
            self.calendar_token = await Account.filter(id=self.id).first().values_list("calendar_token", flat=True)
        return self.calendar_token

    async def reset_calendar_token(self) -> str:
        """A new token: the feed's old addresses (its own, and those of accounts merged into it) stop working."""
        self.calendar_token = new_calendar_token()
        await Account.filter(id=self.id).update(calendar_token=self.calendar_token)
        await CalendarAlias.filter(account_id=self.id).delete()
        return self.calendar_token

    @classmethod
    async def by_calendar_token(cls, token: str) -> Account | None:
        if not _CALENDAR_TOKEN.fullmatch(token):
            return None
        account = await cls.get_or_none(calendar_token=token)
        if account is None:
            alias = await CalendarAlias.get_or_none(token=token).select_related("account")
            account = alias.account if alias is not None else None
        return account


def new_calendar_token() -> str:
    return secrets.token_urlsafe(CALENDAR_TOKEN_BYTES)


class TelegramChat(Model):
    """A Telegram private chat, group or channel, deactivated when it blocks or removes the bot."""

    id = fields.IntField(primary_key=True)
    chat_id = fields.BigIntField(unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="telegram_chats", on_delete=fields.CASCADE
    )
    chat_type = fields.CharField(max_length=16)  # private | group | supergroup | channel
    title = fields.CharField(max_length=255, null=True)
    active = fields.BooleanField(default=True)
    #: the payload of the last `/start PAYLOAD` (kept for linking the chat to a web account)
    start_payload = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "telegram_chat"


class EmailAddress(Model):
    """An email address of an account. Only verified, subscribed addresses get mail."""

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=320, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="emails", on_delete=fields.CASCADE
    )
    verified_at = fields.DatetimeField(null=True)
    unsubscribed = fields.BooleanField(default=False)
    #: the unguessable token in this address's unsubscribe links
    token = fields.CharField(max_length=64, unique=True, null=True)
    #: the unguessable token in the link of the newest verification email (kept once confirmed)
    verify_token = fields.CharField(max_length=64, unique=True, null=True)
    #: when the newest verification email went out: its link works for 48 hours
    verify_sent_at = fields.DatetimeField(null=True)
    #: one-click unsubscribe from digests only (reminders still come)
    digest_unsubscribed = fields.BooleanField(default=False)

    class Meta:
        table = "email_address"

    @classmethod
    async def by_token(cls, token: str) -> EmailAddress | None:
        """The address of an unsubscribe link, with its account."""
        if not _EMAIL_TOKEN.fullmatch(token):
            return None
        return await cls.get_or_none(token=token).select_related("account")

    @classmethod
    async def by_verify_token(cls, token: str) -> EmailAddress | None:
        """The address of a verification link, with its account."""
        if not _EMAIL_TOKEN.fullmatch(token):
            return None
        return await cls.get_or_none(verify_token=token).select_related("account")


def new_email_token() -> str:
    return secrets.token_urlsafe(EMAIL_TOKEN_BYTES)


class VerificationMail(Model):
    """A verification email sent to an address for an account, counted by the limits on how many a day.

    The limits count these rows in the database, so they hold across processes and restarts.
    """

    id = fields.BigIntField(primary_key=True)
    #: the address as the bot normalised it (lower case)
    address = fields.CharField(max_length=320)
    #: who asked (null once that account is gone: the mail still counts for the address)
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="verification_mails", null=True, on_delete=fields.SET_NULL
    )
    sent_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "verification_mail"
        indexes = (("address", "sent_at"), ("account_id", "sent_at"))


class LinkToken(Model):
    """A one-time proof from one way into an account, used to add another: made on the web and sent as
    `/start TOKEN` from a Telegram chat (purpose telegram), or made by `/link` in a chat and opened in a browser
    (purpose web). Only the token's SHA-256 is kept: the database alone gives no usable link."""

    id = fields.IntField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=16)  # telegram | web
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="link_tokens", on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "link_token"


class MergedAccount(Model):
    """An account that became part of another: a session or link that still names it finds the one kept."""

    id = fields.IntField(primary_key=True)
    gone_id = fields.IntField(unique=True)
    kept: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="merged_accounts", on_delete=fields.CASCADE
    )

    class Meta:
        table = "merged_account"


class CalendarAlias(Model):
    """A feed address that keeps working after its account merged into another (the account kept has a feed
    address of its own). A reset of the feed drops these too."""

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=64, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="calendar_aliases", on_delete=fields.CASCADE
    )

    class Meta:
        table = "calendar_alias"


class OAuthIdentity(Model):
    """A login through an OAuth / OpenID Connect provider."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=32)
    subject = fields.CharField(max_length=255)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="oauth_identities", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=320, null=True)

    class Meta:
        table = "oauth_identity"
        unique_together = (("provider", "subject"),)


class Delivery(Model):
    """The sent-log: one row per reminder or notice, claimed (inserted) before it is sent, so it goes out once.

    `kind` is reminder, moved or cancelled. A moved contest gets new reminder rows (its start is part of the
    key). `claimed_by` names the dispatch run that inserted the row: only that run sends it.
    """

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16, default="reminder")
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="deliveries", on_delete=fields.CASCADE
    )
    contest = fields.ForeignKeyField("models.Contest", related_name="deliveries", on_delete=fields.CASCADE)
    channel = fields.CharField(max_length=16)  # telegram | email
    offset_seconds = fields.IntField()
    contest_start = fields.DatetimeField()
    due_at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=16, default="claimed")  # claimed | sent | failed | skipped
    claimed_by = fields.CharField(max_length=36, null=True, db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    error = fields.TextField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("account", "contest", "channel", "kind", "offset_seconds", "contest_start"),)


class DigestDelivery(Model):
    """The sent-log of digests: one row per address and period, claimed (inserted) just before the digest is
    sent, so a period's digest goes out once, also with two schedulers or after a restart."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="digest_deliveries", on_delete=fields.CASCADE
    )
    address: fields.ForeignKeyRelation[EmailAddress] = fields.ForeignKeyField(
        "models.EmailAddress", related_name="digest_deliveries", on_delete=fields.CASCADE
    )
    #: which digest: "daily:2026-11-27" or "weekly:2026-11-23", the local date it is for
    period = fields.CharField(max_length=32)
    due_at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=16, default="claimed")  # claimed | sent | failed | interrupted
    claimed_by = fields.CharField(max_length=36, null=True, db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    error = fields.TextField(null=True)

    class Meta:
        table = "digest_delivery"
        unique_together = (("address", "period"),)


class DiscordWebhook(Model):
    """The Discord channel an account's reminders also go to, through its webhook. Only the webhook's id and
    token are kept: the address is always built on Discord's own API base, never a stored URL."""

    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="discord_webhook", on_delete=fields.CASCADE
    )
    webhook_id = fields.BigIntField()
    token = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "discord_webhook"
