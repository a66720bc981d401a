"""Migration 0002 (email verification) on a database that already holds email addresses, on PostgreSQL or
SQLite: confirmed addresses stay confirmed and keep their unsubscribe links; a pending one has no verification
token, so its old link is unknown until /email mails a new one."""

from __future__ import annotations

from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate as run_migrations

from models.account import EmailAddress, VerificationMail
from models.db import database, migrate, tortoise_config
from notify.email import email_recipients

CONFIRMED_TOKEN = "c" * 43
PENDING_TOKEN = "p" * 43
BEFORE_0002 = f"""
INSERT INTO account (id, kind, timezone, language, include_keywords, exclude_keywords, reminder_offsets, paused,
                     created_at)
VALUES (1, 'person', 'UTC', 'en', '[]', '[]', '[3600]', false, CURRENT_TIMESTAMP),
       (2, 'person', 'UTC', 'en', '[]', '[]', '[3600]', false, CURRENT_TIMESTAMP);
INSERT INTO email_address (address, account_id, verified_at, unsubscribed, token)
VALUES ('confirmed@example.org', 1, CURRENT_TIMESTAMP, false, '{CONFIRMED_TOKEN}'),
       ('pending@example.org', 2, NULL, false, '{PENDING_TOKEN}');
"""


async def test_existing_addresses_keep_their_state(db_url):
    await run_migrations(config=tortoise_config(db_url), target="models.0001_initial")
    try:
        await connections.get("default").execute_script(BEFORE_0002)
    finally:
        await Tortoise.close_connections()

    await migrate(db_url)
    async with database(db_url, apply_migrations=False):
        confirmed = await EmailAddress.by_token(CONFIRMED_TOKEN)
        assert confirmed.address == "confirmed@example.org" and confirmed.verified_at is not None
        assert (confirmed.verify_token, confirmed.verify_sent_at) == (None, None)
        assert confirmed.digest_unsubscribed is False  # 0004: digests off until asked for, never unsubscribed
        assert list(await email_recipients([1, 2])) == [1]

        pending = await EmailAddress.by_token(PENDING_TOKEN)  # its unsubscribe link still works
        assert pending.verified_at is None and pending.verify_token is None
        assert await EmailAddress.by_verify_token(PENDING_TOKEN) is None  # the old verification link does not
        assert await VerificationMail.all().count() == 0
