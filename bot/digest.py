"""/digest daily HH:MM, /digest weekly DAY HH:MM, /digest off: an email listing the contests of the next day or
week (those the chat's filters let through), at that time in the chat's zone, to every confirmed address.
/digest alone says what is set. Asking for a digest again undoes a digest unsubscribe link used earlier."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from bot.screens import OpenSection, open_screen
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


def digest_summary(account: Account) -> str:
    """The line of /settings: "Digest: daily at 08:00", "Digest: weekly, Monday at 18:30" or "Digest: off"."""
    schedule = DigestSchedule.from_account(account)
    if schedule is None:
        return _("Digest: off")
    if schedule.frequency is Frequency.DAILY:
        return _("Digest: daily at {time}").format(time=schedule.time)
    return _("Digest: weekly, {weekday} at {time}").format(
        weekday=day_name(schedule.weekday or 0, account.language), time=schedule.time)


async def digest_screen(account: Account) -> str:
    return schedule_text(DigestSchedule.from_account(account), account.language) + await mail_note(account)


async def mail_note(account: Account) -> str:
    """What stands between the digest and an inbox, if anything."""
    if not await receiving().filter(account_id=account.id).exists():
        return "\n" + _("Digests go to confirmed email addresses, and this chat has none yet: "
                        "/email you@example.org")
    return ""


async def digest_command(message: Message, command: CommandObject, account: Account) -> None:
    typed = (command.args or "").strip()
    if not typed:
        await message.answer(await digest_screen(account))
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


async def open_digest(callback: CallbackQuery, account: Account) -> None:
    await open_screen(callback, await digest_screen(account), None)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="digest")
    router.message.register(digest_command, Command("digest"))
    router.callback_query.register(open_digest, OpenSection.filter(F.section == "digest"))
    return router
