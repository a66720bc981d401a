"""/email ADDRESS: reminders by email too, once the address is confirmed through the link we mail to it;
/email shows the address and its state; /email off removes it.

So that /email cannot mail-bomb a stranger, verification emails are limited per address (whoever asks) and per
chat, counted in the database; a refused request sends nothing and changes nothing.

The process gives the bot an `EmailContext` (the SMTP sender and the public base URL for links) as
dispatcher data `email`; without it (no CONTESTBELL_SMTP_HOST) the bot says that email is off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from bot.permissions import admins_only
from bot.screens import OpenSection
from models.account import Account, EmailAddress, VerificationMail, new_email_token
from notify.email import EmailSender, verification_email
from notify.formatting import local_time
from notify.zones import zone_of

#: what people may type around an address: "<a@b.org>", "mailto:a@b.org"
_WRAPPING = re.compile(r"^(?:mailto:)?<?(.*?)>?$", re.IGNORECASE)
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
OFF_WORDS = {"off", "remove", "delete"}
#: verification emails at most in `MAIL_WINDOW`: to one address, whoever asks, and for one chat, whatever the address
MAILS_PER_ADDRESS = 3
MAILS_PER_ACCOUNT = 5
MAIL_WINDOW = timedelta(hours=24)
#: tries of a claim that races another chat's claim of the same address
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class EmailContext:
    """What the bot needs to send email: the sender (its SMTP server and From address) and the public base
    URL that the links in emails point to."""

    sender: EmailSender
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


async def address_of(account: Account) -> EmailAddress | None:
    return await EmailAddress.filter(account_id=account.id).order_by("id").first()


@dataclass(frozen=True, slots=True)
class TooManyMails:
    """Why no verification email may go now (too many to the address, or for the chat) and when one may."""

    per_address: bool
    retry_at: datetime


async def book_verification_mail(account: Account, address: str, now: datetime) -> VerificationMail | TooManyMails:
    """Count one verification email to `address` for `account`, unless either has had its fill in the last
    `MAIL_WINDOW` (then nothing is counted).

    The row is written (and committed) before the limits are counted, so requests at the same moment, in any
    process, cannot slip under a limit together: each counts the others. When more come at once than a limit
    allows, they may all be refused (a burst is what mail-bombing looks like).
    """
    since = now - MAIL_WINDOW
    await VerificationMail.filter(sent_at__lt=since).delete()  # counts no more
    booking = await VerificationMail.create(address=address, account_id=account.id, sent_at=now)
    others = VerificationMail.filter(sent_at__gte=since).exclude(id=booking.id)
    refusals = [refusal for refusal in (
        await _over_limit(others.filter(address=address), MAILS_PER_ADDRESS, per_address=True),
        await _over_limit(others.filter(account_id=account.id), MAILS_PER_ACCOUNT, per_address=False),
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


async def claim_address(account: Account, address: str, now: datetime) -> EmailAddress | None:
    """Make `address` the account's, waiting for confirmation again with new tokens, its verification email
    sent `now`; None when another chat has it confirmed (a pending claim by another chat gives way: only the
    mailbox decides)."""
    for _attempt in range(CLAIM_ATTEMPTS):
        try:
            async with in_transaction():
                other = await EmailAddress.get_or_none(address=address)
                if other is not None and other.account_id != account.id:
                    if other.verified_at is not None:
                        return None
                    await other.delete()
                mine = await EmailAddress.filter(account_id=account.id).order_by("id")
                for extra in mine[1:]:
                    await extra.delete()
                row = mine[0] if mine else EmailAddress(account_id=account.id)
                row.address, row.token = address, new_email_token()
                row.verify_token, row.verify_sent_at = new_email_token(), now
                row.verified_at, row.unsubscribed = None, False
                await row.save()
                return row
        except IntegrityError:  # another chat claimed it at the same moment: look again
            continue
    return None


def state_text(row: EmailAddress | None, email_on: bool) -> str:
    if row is None:
        text = _("No email address yet. Send /email you@example.org to get reminders by email too.")
    elif row.unsubscribed:
        text = _("Email: {address}, unsubscribed: no emails go there. Send /email {address} to subscribe "
                 "again.").format(address=escape(row.address))
    elif row.verified_at is None:
        text = _("Email: {address}, waiting for confirmation: open the link in the email we sent. No email? "
                 "Send /email {address} again.").format(address=escape(row.address))
    else:
        text = _("Email: {address}, confirmed: reminders go there too. /email off removes it.").format(
            address=escape(row.address))
    return text if email_on else text + "\n\n" + email_off_text()


def email_off_text() -> str:
    return _("Email is not set up on this server, so no emails are sent.")


def too_many_text(refusal: TooManyMails, address: str, account: Account) -> str:
    if refusal.per_address:
        text = _("{address} has had enough confirmation emails for today, so I sent none now. Nothing changed. "
                 "Try again after {time}.")
    else:
        text = _("This chat has asked for enough confirmation emails for today, so I sent none now. Nothing "
                 "changed. Try again after {time}.")
    after = local_time(refusal.retry_at, zone_of(account.timezone), account.language)
    return text.format(address=escape(address), time=escape(after))


def bad_address_text(typed: str) -> str:
    return _("That does not look like an email address: {typed}. Nothing changed.\n"
             "Send it like this: /email you@example.org").format(typed=escape(typed[:100]))


async def email_command(message: Message, command: CommandObject, account: Account, i18n: I18n,
                        email: EmailContext | None = None) -> None:
    typed = (command.args or "").strip()
    if not typed:
        await message.answer(state_text(await address_of(account), email is not None))
    elif typed.lower() in OFF_WORDS:
        await remove_address(message, account)
    else:
        await set_address(message, typed, account, i18n, email)


@admins_only
async def set_address(message: Message, typed: str, account: Account, i18n: I18n,
                      email: EmailContext | None) -> None:
    if email is None:
        await message.answer(email_off_text())
        return
    address = parse_address(typed)
    if address is None:
        await message.answer(bad_address_text(typed))
        return
    booking = await book_verification_mail(account, address, datetime.now(UTC))
    if isinstance(booking, TooManyMails):
        await message.answer(too_many_text(booking, address, account))
        return
    row = await claim_address(account, address, booking.sent_at)
    if row is None:
        await booking.delete()  # nothing went out
        await message.answer(_("{address} is already used by another chat. Remove it there with /email off "
                               "first.").format(address=escape(address)))
        return
    letter = verification_email(i18n, row, account.language, from_address=email.sender.from_address,
                                base_url=email.base_url)
    result = await email.sender.send_one(letter)
    if result.ok:
        await message.answer(_("I sent a confirmation link to {address}. Open it, and reminders will come "
                               "there too.").format(address=escape(address)))
    else:
        await booking.delete()  # nothing went out
        await message.answer(_("I could not send the email to {address} just now. Try /email {address} again "
                               "later.").format(address=escape(address)))


@admins_only
async def remove_address(message: Message, account: Account) -> None:
    removed = await EmailAddress.filter(account_id=account.id).delete()
    await message.answer(_("Email address removed: no more emails.") if removed
                         else _("There is no email address to remove."))


async def open_email(callback: CallbackQuery, account: Account, email: EmailContext | None = None) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(state_text(await address_of(account), email is not None))
    await callback.answer()


def make_router() -> Router:
    router = Router(name="email")
    router.message.register(email_command, Command("email"))
    router.callback_query.register(open_email, OpenSection.filter(F.section == "email"))
    return router
