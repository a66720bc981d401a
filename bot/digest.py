"""/digest daily HH:MM, /digest weekly DAY HH:MM, /digest off: an email listing the contests of the next day or
week (those the chat's filters let through), at that time in the chat's zone, to every confirmed address.
/digest alone says what is set. Asking for a digest again undoes a digest unsubscribe link used earlier."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from models.account import Account, EmailAddress
from notify.digest import DigestError, DigestSchedule, Frequency, Off, account_fields, explain, parse_digest
from notify.email import receiving
from notify.formatting import day_name


def schedule_text(schedule: DigestSchedule | None, language: str) -> str:
    if schedule is None:
        return _("No digest. Send /digest daily 08:00 or /digest weekly mon 18:30 to get one by email.")
    if schedule.frequency is Frequency.DAILY:
        return _("Digest: every day at {time} (your time zone), by email.").format(time=schedule.time)
    return _("Digest: every {weekday} at {time} (your time zone), by email.").format(
        weekday=day_name(schedule.weekday or 0, language), time=schedule.time)


async def mail_note(account: Account) -> str:
    """What stands between the digest and an inbox, if anything."""
    if not await receiving().filter(account_id=account.id).exists():
        return "\n" + _("Digests go to confirmed email addresses, and this chat has none yet: "
                        "/email you@example.org")
    return ""


async def digest_command(message: Message, command: CommandObject, account: Account) -> None:
    typed = (command.args or "").strip()
    if not typed:
        current = DigestSchedule.from_account(account)
        await message.answer(schedule_text(current, account.language) + await mail_note(account))
        return
    await set_digest(message, typed, account)


@admins_only
async def set_digest(message: Message, typed: str, account: Account) -> None:
    setting = parse_digest(typed)
    if isinstance(setting, DigestError):
        await message.answer(escape(explain(setting), quote=False) + "\n" + _("Nothing changed."))
        return
    fields = account_fields(setting)
    await Account.filter(id=account.id).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)
    if isinstance(setting, Off):
        await message.answer(_("Digest off: no more digest emails. Reminders are unchanged."))
        return
    await EmailAddress.filter(account_id=account.id).update(digest_unsubscribed=False)
    await message.answer(schedule_text(setting, account.language) + await mail_note(account))


def make_router() -> Router:
    router = Router(name="digest")
    router.message.register(digest_command, Command("digest"))
    return router
