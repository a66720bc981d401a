"""/sites: a keyboard of every site with ✓ on the followed ones; /subscribe and /unsubscribe by slug.

`account.sites` null means the popular set; the first change writes it out as an explicit list.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import field_validator

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, refusal_text
from fetchers.registry import all_sites
from models.account import Account
from models.selection import POPULAR_SITES
from notify.rules import SettingProblem, parse_site_list

BUTTONS_PER_ROW = 2


class SiteToggle(CallbackData, prefix="site"):
    slug: str

    @field_validator("slug")
    @classmethod
    def _known_site(cls, slug: str) -> str:
        if slug not in all_sites():
            raise ValueError("no such site")
        return slug


def followed(account: Account) -> list[str]:
    """The account's sites: its own list, or the popular set while it has none."""
    return list(account.sites) if account.sites is not None else list(POPULAR_SITES)


def changed(sites: list[str], slugs: list[str], follow: bool) -> list[str]:
    """The sites with `slugs` followed (or unfollowed), in the registry's order."""
    chosen = set(sites) | set(slugs) if follow else set(sites) - set(slugs)
    return [slug for slug in all_sites() if slug in chosen]


def toggled(sites: list[str], slug: str) -> list[str]:
    return changed(sites, [slug], follow=slug not in sites)


def following_text(sites: list[str]) -> str:
    names = [escape(site.info.name) for slug, site in all_sites().items() if slug in sites]
    if not names:
        return _("You follow no sites: I will show and remind nothing until you pick some.")
    return _("You follow: {sites}.").format(sites=", ".join(names))


def sites_screen(sites: list[str]) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n\n".join((
        following_text(sites),
        _("Press a site to follow it or stop following it (✓ marks the ones you follow). "
          "By text: /subscribe atcoder leetcode, /unsubscribe leetcode."),
    ))
    buttons = [
        InlineKeyboardButton(text=("✓ " if slug in sites else "") + site.info.name,
                             callback_data=SiteToggle(slug=slug).pack())
        for slug, site in all_sites().items()
    ]
    rows = [buttons[i:i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def show_sites(message: Message, account: Account) -> None:
    text, keyboard = sites_screen(followed(account))
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def subscribe(message: Message, command: CommandObject, account: Account) -> None:
    await change_by_text(message, command, account, follow=True)


@admins_only
async def unsubscribe(message: Message, command: CommandObject, account: Account) -> None:
    await change_by_text(message, command, account, follow=False)


async def change_by_text(message: Message, command: CommandObject, account: Account, follow: bool) -> None:
    try:
        slugs = parse_site_list(command.args or "", all_sites())
    except SettingProblem as problem:
        await message.reply(refusal_text(problem))
        return
    if not slugs:
        await message.reply(_("Name the sites, e.g. /{command} atcoder leetcode. The sites are: {sites}.").format(
            command=command.command, sites=", ".join(all_sites())))
        return
    sites = changed(followed(account), slugs, follow)
    await save_sites(account, sites)
    await message.answer(following_text(sites))


@admins_only
async def toggle_site(callback: CallbackQuery, callback_data: SiteToggle, account: Account) -> None:
    sites = toggled(followed(account), callback_data.slug)
    await save_sites(account, sites)
    await callback.answer()
    await edit_screen(callback, *sites_screen(sites))


async def open_sites(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    text, keyboard = sites_screen(followed(account))
    await callback.message.answer(text, reply_markup=keyboard)


async def save_sites(account: Account, sites: list[str]) -> None:
    account.sites = sites
    await account.save(update_fields=["sites"])


def make_router() -> Router:
    router = Router(name="sites")
    router.message.register(show_sites, Command("sites"))
    router.message.register(subscribe, Command("subscribe"))
    router.message.register(unsubscribe, Command("unsubscribe"))
    router.callback_query.register(toggle_site, SiteToggle.filter())
    router.callback_query.register(open_sites, OpenSection.filter(F.section == "sites"))
    return router
