"""/email ADDRESS: reminders by email too, once the address is confirmed through the link we mail to it;
/email shows the address and its state; /email off removes it.

So that /email cannot mail-bomb a stranger, verification emails are limited per address (whoever asks) and per
chat, counted in the database; a refused request sends nothing and changes nothing.

The process gives the bot a `Mailer` (notify/addresses.py: the SMTP sender and the public base URL for links)
as dispatcher data `email`; without it (no CONTESTBELL_SMTP_HOST) the bot says that email is off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from bot.screens import OpenSection, open_screen
from models.account import Account, EmailAddress
from notify.addresses import Asked, Mailer, TooManyMails, Verification, ask_to_confirm, parse_address
from notify.formatting import local_time
from notify.zones import zone_of

OFF_WORDS = {"off", "remove", "delete"}
#: /settings shows an address up to this many characters, then "…"
SHOWN_ADDRESS = 40


async def address_of(account: Account) -> EmailAddress | None:
    return await EmailAddress.filter(account_id=account.id).order_by("id").first()


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


def email_summary(row: EmailAddress | None) -> str:
    """The line of /settings: "Email: alice@example.org (confirmed)" or "Email: not set"."""
    if row is None:
        return _("Email: not set")
    if row.unsubscribed:
        state = _("unsubscribed")
    elif row.verified_at is None:
        state = _("waiting for confirmation")
    else:
        state = _("confirmed")
    address = row.address if len(row.address) <= SHOWN_ADDRESS else row.address[:SHOWN_ADDRESS - 1] + "…"
    return _("Email: {address} ({state})").format(address=escape(address), state=state)


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


async def email_command(message: Message, command: CommandObject, account: Account,
                        email: Mailer | None = None) -> None:
    typed = (command.args or "").strip()
    if not typed:
        await message.answer(state_text(await address_of(account), email is not None))
    elif typed.lower() in OFF_WORDS:
        await remove_address(message, account)
    else:
        await set_address(message, typed, account, email)


@admins_only
async def set_address(message: Message, typed: str, account: Account, email: Mailer | None) -> None:
    if email is None:
        await message.answer(email_off_text())
        return
    address = parse_address(typed)
    if address is None:
        await message.answer(bad_address_text(typed))
        return
    asked = await ask_to_confirm(email, account.id, account.language, address, datetime.now(UTC), only_one=True)
    await message.answer(asked_text(asked, account))


def asked_text(asked: Verification, account: Account) -> str:
    address = escape(asked.address)
    if asked.outcome is Asked.TOO_MANY:
        return too_many_text(asked.refusal, asked.address, account)
    if asked.outcome is Asked.TAKEN:
        return _("{address} is already used by another chat. Remove it there with /email off first.").format(
            address=address)
    if asked.outcome is Asked.NOT_SENT:
        return _("I could not send the email to {address} just now. Try /email {address} again later.").format(
            address=address)
    return _("I sent a confirmation link to {address}. Open it, and reminders will come there too.").format(
        address=address)


@admins_only
async def remove_address(message: Message, account: Account) -> None:
    removed = await EmailAddress.filter(account_id=account.id).delete()
    await message.answer(_("Email address removed: no more emails.") if removed
                         else _("There is no email address to remove."))


async def open_email(callback: CallbackQuery, account: Account, email: Mailer | None = None) -> None:
    await open_screen(callback, state_text(await address_of(account), email is not None), None)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="email")
    router.message.register(email_command, Command("email"))
    router.callback_query.register(open_email, OpenSection.filter(F.section == "email"))
    return router
