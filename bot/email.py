"""/email ADDRESS: reminders by email too, once the address is confirmed through the link we mail to it;
/email shows the address and its state; /email off removes it.

The process gives the bot an `EmailContext` (the SMTP sender and the public base URL for links) as
dispatcher data `email`; without it (no CONTESTBELL_SMTP_HOST) the bot says that email is off.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.permissions import admins_only
from bot.screens import OpenSection
from models.account import Account, EmailAddress
from notify.email import EmailSender, verification_email

#: what people may type around an address: "<a@b.org>", "mailto:a@b.org"
_WRAPPING = re.compile(r"^(?:mailto:)?<?(.*?)>?$", re.IGNORECASE)
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
OFF_WORDS = {"off", "remove", "delete"}


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


async def claim_address(account: Account, address: str) -> EmailAddress | None:
    """Make `address` the account's, waiting for confirmation again with a new token; None when another
    chat has it confirmed (a pending claim by another chat gives way: only the mailbox decides)."""
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
            row.address, row.token = address, secrets.token_urlsafe(32)
            row.verified_at, row.unsubscribed = None, False
            await row.save()
            return row
    except IntegrityError:  # someone claimed it at the same moment
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
    row = await claim_address(account, address)
    if row is None:
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
