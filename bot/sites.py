"""/sites: the sites of the catalog (models/catalog.py) as pages of ✓ buttons, popular ones first, then A–Z;
/subscribe and /unsubscribe by slug.

The screen is one message edited in place: a site button toggles that site and redraws the same page, ◀ ▶ turn
the page, "Done" leaves the summary without buttons. A button carries the site's slug and the page it sits on;
a slug that is not (or no longer) a listed site matches no handler, so bot/stale.py answers it and nothing changes.

`account.sites` null means the popular set; the first change writes it out as an explicit list (sorted by slug,
which keeps a followed site that has left the catalog).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen, refusal_text
from models.account import Account
from models.catalog import ListedSite, listed_sites
from models.selection import POPULAR_SITES
from notify.i18n import ngettext
from notify.rules import SettingProblem, parse_site_list

#: site buttons on one page, two to a row
PAGE_SIZE = 10
BUTTONS_PER_ROW = 2
#: the highest page number a button may carry (a page past the last one shows the last)
MAX_PAGE = 99
#: "You follow: ..." names at most this many sites, then says how many more
SHOWN_NAMES = 12
#: what a site's slug looks like (fetchers: a-z, 0-9, _ and -, 1 to 40 characters)
SLUG_PATTERN = r"^[a-z0-9_-]{1,40}$"

Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
Page = Annotated[int, Field(ge=0, le=MAX_PAGE)]


class SiteToggle(CallbackData, prefix="site"):
    """Follow or stop following `slug`, then redraw `page`. At most 5 + 40 + 1 + 2 = 48 bytes."""

    slug: Slug
    page: Page = 0


class SitesPage(CallbackData, prefix="sites"):
    page: Page


class SitesDone(CallbackData, prefix="sites-done"):
    pass


async def a_listed_site(callback: CallbackQuery, callback_data: SiteToggle) -> dict[str, Any] | bool:
    """The button's slug is a site of the catalog now: the handler gets the catalog (one query for both)."""
    catalog = await listed_sites()
    return {"catalog": catalog} if any(site.slug == callback_data.slug for site in catalog) else False


def followed(account: Account) -> list[str]:
    """The account's sites: its own list, or the popular set while it has none."""
    return list(account.sites) if account.sites is not None else list(POPULAR_SITES)


def changed(sites: list[str], slugs: list[str], follow: bool) -> list[str]:
    """The sites with `slugs` followed (or unfollowed), sorted by slug."""
    chosen = set(sites) | set(slugs) if follow else set(sites) - set(slugs)
    return sorted(chosen)


def toggled(sites: list[str], slug: str) -> list[str]:
    return changed(sites, [slug], follow=slug not in sites)


def page_count(catalog: list[ListedSite]) -> int:
    return max(1, -(-len(catalog) // PAGE_SIZE))


def following_text(catalog: list[ListedSite], sites: list[str]) -> str:
    """The followed sites by name, in the catalog's order; past `SHOWN_NAMES` only how many more."""
    names = [escape(site.name) for site in catalog if site.slug in sites]
    if not names:
        return _("You follow no sites: I will show and remind nothing until you pick some.")
    shown = ", ".join(names[:SHOWN_NAMES])
    if len(names) > SHOWN_NAMES:
        more = len(names) - SHOWN_NAMES
        shown = ngettext("{sites} and {count} more site", "{sites} and {count} more sites", more).format(
            sites=shown, count=more)
    return _("You follow: {sites}.").format(sites=shown)


def site_button(site: ListedSite, sites: list[str], page: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=("✓ " if site.slug in sites else "") + site.name,
                                callback_data=SiteToggle(slug=site.slug, page=page).pack())


def navigation_row(page: int, pages: int) -> list[InlineKeyboardButton]:
    """◀ and ▶ where there is a page to go to, "Done" between them."""
    row = [InlineKeyboardButton(text="◀", callback_data=SitesPage(page=page - 1).pack())] if page > 0 else []
    row.append(InlineKeyboardButton(text=_("Done"), callback_data=SitesDone().pack()))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(text="▶", callback_data=SitesPage(page=page + 1).pack()))
    return row


def sites_keyboard(catalog: list[ListedSite], sites: list[str], page: int) -> InlineKeyboardMarkup:
    shown = catalog[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    buttons = [site_button(site, sites, page) for site in shown]
    rows = [buttons[i:i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, navigation_row(page, page_count(catalog))])


def sites_screen(catalog: list[ListedSite], sites: list[str], page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """Page `page` (the last one when past it) of the catalog, followed sites ticked."""
    pages = page_count(catalog)
    page = min(page, pages - 1)
    text = "\n\n".join((
        following_text(catalog, sites),
        _("Press a site to follow it or stop following it (✓ marks the ones you follow). Popular sites come first, "
          "then all the others from A to Z. By text: /subscribe atcoder leetcode, /unsubscribe leetcode."),
        _("Page {page} of {pages}.").format(page=page + 1, pages=pages),
    ))
    return text, sites_keyboard(catalog, sites, page)


async def show_sites(message: Message, account: Account) -> None:
    text, keyboard = sites_screen(await listed_sites(), followed(account))
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def subscribe(message: Message, command: CommandObject, account: Account) -> None:
    await change_by_text(message, command, account, follow=True)


@admins_only
async def unsubscribe(message: Message, command: CommandObject, account: Account) -> None:
    await change_by_text(message, command, account, follow=False)


async def change_by_text(message: Message, command: CommandObject, account: Account, follow: bool) -> None:
    catalog = await listed_sites()
    try:
        slugs = parse_site_list(command.args or "", {site.slug for site in catalog})
    except SettingProblem as problem:
        await message.reply(refusal_text(problem) + "\n" + _("/sites shows every site."))
        return
    if not slugs:
        await message.reply(_("Name the sites, e.g. /{command} atcoder leetcode. /sites shows every site.").format(
            command=command.command))
        return
    sites = changed(followed(account), slugs, follow)
    await save_sites(account, sites)
    await message.answer(following_text(catalog, sites))


@admins_only
async def toggle_site(callback: CallbackQuery, callback_data: SiteToggle, account: Account,
                      catalog: list[ListedSite]) -> None:
    sites = toggled(followed(account), callback_data.slug)
    await save_sites(account, sites)
    await callback.answer()
    await edit_screen(callback, *sites_screen(catalog, sites, callback_data.page))


async def turn_page(callback: CallbackQuery, callback_data: SitesPage, account: Account) -> None:
    """Paging changes nothing stored: anyone in a group may do it, as with /upcoming's "More"."""
    await callback.answer()
    await edit_screen(callback, *sites_screen(await listed_sites(), followed(account), callback_data.page))


async def close_sites(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    await edit_screen(callback, following_text(await listed_sites(), followed(account)), None)


async def open_sites(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    await open_screen(callback, *sites_screen(await listed_sites(), followed(account)))


async def save_sites(account: Account, sites: list[str]) -> None:
    account.sites = sites
    await account.save(update_fields=["sites"])


def make_router() -> Router:
    router = Router(name="sites")
    router.message.register(show_sites, Command("sites"))
    router.message.register(subscribe, Command("subscribe"))
    router.message.register(unsubscribe, Command("unsubscribe"))
    router.callback_query.register(toggle_site, SiteToggle.filter(), a_listed_site)
    router.callback_query.register(turn_page, SitesPage.filter())
    router.callback_query.register(close_sites, SitesDone.filter())
    router.callback_query.register(open_sites, OpenSection.filter(F.section == "sites"))
    return router
