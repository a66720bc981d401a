"""/start greets and resumes reminders (keeping a deep-link payload for account linking); /stop pauses."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.formatting import site_name
from bot.permissions import admins_only
from models.account import Account, TelegramChat
from models.selection import POPULAR_SITES
from notify.formatting import span
from notify.i18n import language_name


def settings_summary(account: Account) -> str:
    sites = account.sites if account.sites is not None else list(POPULAR_SITES)
    offsets = ", ".join(span(offset) for offset in sorted(account.reminder_offsets, reverse=True))
    return "\n".join((
        _("Sites: {sites}").format(sites=", ".join(site_name(s) for s in sites) or _("none")),
        _("Reminders: {offsets} before the start").format(offsets=offsets) if offsets else _("Reminders: off"),
        _("Time zone: {zone}").format(zone=account.timezone),
        _("Language: {language}").format(language=language_name(account.language)),
    ))


async def start(message: Message, command: CommandObject, account: Account, tg_chat: TelegramChat) -> None:
    if command.args:
        tg_chat.start_payload = command.args.strip()[:64]
        await tg_chat.save(update_fields=["start_payload"])
    if account.paused:
        await resume(message, account)
        return
    await message.answer("\n\n".join((
        _("Hello! I remind you of programming contests before they start."),
        settings_summary(account),
        _("Change them with /sites, /remind, /filter, /timezone and /language, or all at once in /settings. "
          "/upcoming lists the next contests, /help explains every command."),
    )))


@admins_only
async def resume(message: Message, account: Account) -> None:
    account.paused = False
    await account.save(update_fields=["paused"])
    await message.answer(_("Welcome back: reminders are on again.") + "\n\n" + settings_summary(account))


@admins_only
async def stop(message: Message, account: Account) -> None:
    account.paused = True
    await account.save(update_fields=["paused"])
    await message.answer(_("Reminders are paused; your settings are kept. Send /start to resume."))


def make_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(stop, Command("stop"))
    return router
