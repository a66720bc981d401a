"""Email addresses of an account, for the bot's `/email` and the web's account page alike: what a plausible
address is, asking the mailbox to confirm it (the verification email), and the limits that keep anyone from
mail-bombing a stranger with it: verification emails are counted per address (whoever asks) and per account in
the database, so the limits hold across processes; a refused request sends nothing and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aiogram.utils.i18n import I18n
from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.account import EmailAddress, VerificationMail, new_email_token
from notify.email import EmailSender, verification_email

#: what people may type around an address: "<a@b.org>", "mailto:a@b.org"
_WRAPPING = re.compile(r"^(?:mailto:)?<?(.*?)>?$", re.IGNORECASE)
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
#: verification emails at most in `MAIL_WINDOW`: to one address, whoever asks, and for one account, whatever the
#: address
MAILS_PER_ADDRESS = 3
MAILS_PER_ACCOUNT = 5
MAIL_WINDOW = timedelta(hours=24)
#: tries of a claim that races another account's claim of the same address
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Mailer:
    """What sending verification emails takes: the sender (its SMTP server and From address), the catalogs, and
    the public base URL that the links in emails point to."""

    sender: EmailSender
    i18n: I18n
    base_url: str


def parse_address(text: str) -> str | None:
    """A plausible email address, lower-cased ("Ann@Example.ORG" -> "ann@example.org"), or None.

    Plain ASCII addresses with a dotted domain whose last label is letters; no quoted local parts, no IP
    literals. It says only that the address could exist: the confirmation link proves it does.
    """
    match = _WRAPPING.match(text.strip())
    address = match.group(1).strip() if match else ""
    if len(address) > 254 or address.count("@") != 1:
        return None
    local, domain = address.rsplit("@", 1)
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    if not (0 < len(local) <= 64 and _LOCAL.match(local)) or len(labels) < 2:
        return None
    if not all(_LABEL.match(label) for label in labels) or not labels[-1].isalpha() or len(labels[-1]) < 2:
        return None
    return f"{local}@{domain}".lower()


@dataclass(frozen=True, slots=True)
class TooManyMails:
    """Why no verification email may go now (too many to the address, or for the account) and when one may."""

    per_address: bool
    retry_at: datetime


async def book_verification_mail(account_id: int, address: str, now: datetime) -> VerificationMail | TooManyMails:
    """Count one verification email to `address` for the account, unless either has had its fill in the last
    `MAIL_WINDOW` (then nothing is counted).

    The row is written (and committed) before the limits are counted, so requests at the same moment, in any
    process, cannot slip under a limit together: each counts the others. When more come at once than a limit
    allows, they may all be refused (a burst is what mail-bombing looks like).
    """
    since = now - MAIL_WINDOW
    await VerificationMail.filter(sent_at__lt=since).delete()  # counts no more
    booking = await VerificationMail.create(address=address, account_id=account_id, sent_at=now)
    others = VerificationMail.filter(sent_at__gte=since).exclude(id=booking.id)
    refusals = [refusal for refusal in (
        await _over_limit(others.filter(address=address), MAILS_PER_ADDRESS, per_address=True),
        await _over_limit(others.filter(account_id=account_id), MAILS_PER_ACCOUNT, per_address=False),
    ) if refusal is not None]
    if refusals:
        await booking.delete()
        return max(refusals, key=lambda refusal: refusal.retry_at)
    return booking


async def _over_limit(mails: QuerySet[VerificationMail], limit: int, *, per_address: bool) -> TooManyMails | None:
    """None while fewer than `limit` of `mails` count; otherwise when enough of them will be old enough."""
    times = await mails.order_by("sent_at").values_list("sent_at", flat=True)
    if len(times) < limit:
        return None
    return TooManyMails(per_address, times[len(times) - limit] + MAIL_WINDOW)


async def claim_address(account_id: int, address: str, now: datetime, *, only_one: bool) -> EmailAddress | None:
    """Make `address` the account's, waiting for confirmation again with new tokens, its verification email
    sent `now` (with `only_one`, it replaces the account's other addresses: the bot's `/email` keeps one per
    chat); None when another account has it confirmed (a pending claim by another account gives way: only the
    mailbox decides)."""
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            async with in_transaction():
                return await _claim(account_id, address, now, only_one)
        except IntegrityError:  # another account claimed it at the same moment: look again
            continue
    return None


async def _claim(account_id: int, address: str, now: datetime, only_one: bool) -> EmailAddress | None:
    other = await EmailAddress.get_or_none(address=address)
    if other is not None and other.account_id != account_id:
        if other.verified_at is not None:
            return None
        await other.delete()
        other = None
    if only_one:
        mine = await EmailAddress.filter(account_id=account_id).order_by("id")
        for extra in mine[1:]:
            await extra.delete()
        row = mine[0] if mine else EmailAddress(account_id=account_id)
    else:
        row = other or EmailAddress(account_id=account_id)
    row.address, row.token = address, new_email_token()
    row.verify_token, row.verify_sent_at = new_email_token(), now
    row.verified_at, row.unsubscribed = None, False
    await row.save()
    return row


class Asked(StrEnum):
    SENT = "sent"
    TOO_MANY = "too many"  # `refusal` says which limit and until when
    TAKEN = "taken"  # another account has it confirmed
    NOT_SENT = "not sent"  # the SMTP server did not take it


@dataclass(frozen=True, slots=True)
class Verification:
    outcome: Asked
    address: str
    refusal: TooManyMails | None = None


async def ask_to_confirm(mailer: Mailer, account_id: int, language: str, address: str, now: datetime, *,
                         only_one: bool) -> Verification:
    """Send `address` its verification email for the account, within the limits (what did not go out is not
    counted)."""
    booking = await book_verification_mail(account_id, address, now)
    if isinstance(booking, TooManyMails):
        return Verification(Asked.TOO_MANY, address, booking)
    row = await claim_address(account_id, address, booking.sent_at, only_one=only_one)
    if row is None:
        await booking.delete()
        return Verification(Asked.TAKEN, address)
    letter = verification_email(mailer.i18n, row, language, from_address=mailer.sender.from_address,
                                base_url=mailer.base_url)
    if not (await mailer.sender.send_one(letter)).ok:
        await booking.delete()
        return Verification(Asked.NOT_SENT, address)
    return Verification(Asked.SENT, address)
