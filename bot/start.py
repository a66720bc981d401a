"""/start greets, shows the chat's settings and offers the three first steps as buttons (time zone, sites,
reminders: each opens that screen), and resumes reminders (keeping a deep-link payload for account linking);
/stop pauses."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from bot.screens import OpenSection
from bot.timezone import shown_zone
from models.account import Account, TelegramChat
from models.catalog import ListedSite, listed_sites
from models.selection import POPULAR_SITES
from notify.formatting import span
from notify.i18n import language_name, ngettext

#: the summary names at most this many sites, then says how many more
SHOWN_SITES = 8


def sites_summary(catalog: list[ListedSite], sites: list[str]) -> str:
    """The followed sites by name (HTML), in the catalog's order, at most `SHOWN_SITES` of them."""
    listed = {site.slug for site in catalog}
    names = [site.name for site in catalog if site.slug in sites] + [s for s in sites if s not in listed]
    if not names:
        return _("none")
    shown = escape(", ".join(names[:SHOWN_SITES]))
    if len(names) > SHOWN_SITES:
        more = len(names) - SHOWN_SITES
        return ngettext("{sites} and {count} more site (see /sites)", "{sites} and {count} more sites (see /sites)",
                        more).format(sites=shown, count=more)
    return shown


async def settings_summary(account: Account) -> str:
    sites = account.sites if account.sites is not None else list(POPULAR_SITES)
    offsets = ", ".join(span(offset) for offset in sorted(account.reminder_offsets, reverse=True))
    return "\n".join((
        _("Sites: {sites}").format(sites=sites_summary(await listed_sites(), sites)),
        _("Reminders: {offsets} before the start").format(offsets=offsets) if offsets else _("Reminders: off"),
        _("Time zone: {zone}").format(zone=shown_zone(account)),
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
        await settings_summary(account),
        _("First steps: your time zone, the sites you follow and when to remind you (the buttons below). "
          "/settings has everything else, /upcoming lists the next contests, /help explains every command."),
    )), reply_markup=first_steps_keyboard())


def first_steps_keyboard() -> InlineKeyboardMarkup:
    """A button into each first step's screen, one a row."""
    steps = (("timezone", _("🕒 Time zone")), ("sites", _("🌐 Sites")), ("remind", _("⏰ Reminders")))
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=label, callback_data=OpenSection(section=section).pack())]
        for section, label in steps
    ])


@admins_only
async def resume(message: Message, account: Account) -> None:
    account.paused = False
    await account.save(update_fields=["paused"])
    await message.answer(_("Welcome back: reminders are on again.") + "\n\n" + await settings_summary(account))


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
