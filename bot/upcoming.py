"""/upcoming [SITE...]: the next contests that match the chat's filters (or only the named sites), ten at a
time, in the chat's zone and language; a "More" button pages on by editing the message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from typing import Annotated

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field, field_validator

from bot.formatting import contest_text, site_name
from bot.screens import OpenSection, edit_screen
from fetchers.registry import all_sites
from models.account import Account
from models.contest import Contest
from models.selection import ContestFilter, upcoming
from notify.zones import zone_of

PAGE_SIZE = 10
#: the last second a cursor may name (the end of year 9999)
LAST_MOMENT = 253402300799
_WORDS = re.compile(r"[\s,;]+")


class MoreContests(CallbackData, prefix="upcoming"):
    """The next page: contests starting at or after `after` (unix seconds), past the first `skip` of those
    (the ones already shown); `sites` is a bit mask over the known sites, 0 for the chat's own sites."""

    after: Annotated[int, Field(ge=0, le=LAST_MOMENT)]
    skip: Annotated[int, Field(ge=0, le=PAGE_SIZE)]
    sites: Annotated[int, Field(ge=0)] = 0

    @field_validator("sites")
    @classmethod
    def _known_sites_only(cls, mask: int) -> int:
        if mask >> len(all_sites()):
            raise ValueError("the mask names a site that does not exist")
        return mask


def parse_sites(args: str | None) -> tuple[list[str], list[str]]:
    """The site slugs named in a command's arguments and the words that name no site:
    "AtCoder, codeforces foo" -> (["atcoder", "codeforces"], ["foo"])."""
    known, unknown = [], []
    for word in _WORDS.split((args or "").strip()):
        slug = word.lower()
        if slug in all_sites():
            if slug not in known:
                known.append(slug)
        elif word and word not in unknown:
            unknown.append(word)
    return known, unknown


def sites_mask(slugs: list[str]) -> int:
    """The sites as a bit mask over the known slugs (short enough for callback data with every site)."""
    order = list(all_sites())
    return sum(1 << order.index(slug) for slug in set(slugs) if slug in order)


def sites_of_mask(mask: int) -> list[str]:
    return [slug for index, slug in enumerate(all_sites()) if mask >> index & 1]


def next_cursor(page: list[Contest]) -> tuple[int, int]:
    """Where the page after `page` starts: the last start shown (whole seconds) and how many contests shown
    start at or after it (contests sharing a start are ordered by site and key, so they are skipped exactly)."""
    after = int(page[-1].start.timestamp())
    return after, sum(1 for contest in page if contest.start.timestamp() >= after)


async def contests_page(selection: ContestFilter, now: datetime, after: int | None = None,
                        skip: int = 0) -> tuple[list[Contest], bool]:
    """One page of upcoming contests and whether more follow. A cursor that time has overtaken (its contests
    have started) starts again from now."""
    query = upcoming(selection, now)
    if after is not None and datetime.fromtimestamp(after, UTC) > now:
        query = query.filter(start__gte=datetime.fromtimestamp(after, UTC)).offset(skip)
    found = await query.limit(PAGE_SIZE + 1)
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def sites_label(slugs: list[str]) -> str:
    return escape(", ".join(site_name(slug) for slug in slugs))


def page_text(contests: list[Contest], account: Account, sites: list[str], now: datetime) -> str:
    zone = zone_of(account.timezone)
    header = (_("Upcoming contests on {sites}").format(sites=sites_label(sites)) if sites
              else _("Upcoming contests"))
    return "\n\n".join((f"<b>{header}</b>",
                        *(contest_text(contest, zone, account.language, now) for contest in contests)))


def nothing_text(sites: list[str]) -> str:
    if sites:
        return _("No upcoming contests on {sites} match your filters. See /filter, or /sites for other sites.").format(
            sites=sites_label(sites))
    return _("No upcoming contests match your settings. Choose more sites with /sites or loosen /filter.")


def unknown_sites_text(unknown: list[str]) -> str:
    names = ", ".join(escape(word[:40]) for word in unknown[:5]) + (", …" if len(unknown) > 5 else "")
    return _("I don't know these sites: {names}. Known sites: {slugs}. Example: /upcoming codeforces atcoder").format(
        names=names, slugs=", ".join(all_sites()))


def more_button(page: list[Contest], sites: list[str]) -> InlineKeyboardMarkup:
    after, skip = next_cursor(page)
    data = MoreContests(after=after, skip=skip, sites=sites_mask(sites)).pack()
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=_("More"), callback_data=data)]])


async def first_page(account: Account, sites: list[str]) -> tuple[str, InlineKeyboardMarkup | None]:
    now = datetime.now(UTC)
    page, more = await contests_page(ContestFilter.of(account, sites), now)
    if not page:
        return nothing_text(sites), None
    return page_text(page, account, sites, now), more_button(page, sites) if more else None


async def show_upcoming(message: Message, command: CommandObject, account: Account) -> None:
    sites, unknown = parse_sites(command.args)
    if unknown:
        await message.answer(unknown_sites_text(unknown))
        return
    text, keyboard = await first_page(account, sites)
    await message.answer(text, reply_markup=keyboard)


async def show_more(callback: CallbackQuery, callback_data: MoreContests, account: Account) -> None:
    if not isinstance(callback.message, Message):  # too old to edit
        await callback.answer(_("This list is too old; send /upcoming again."), show_alert=True)
        return
    sites = sites_of_mask(callback_data.sites)
    now = datetime.now(UTC)
    page, more = await contests_page(ContestFilter.of(account, sites), now, callback_data.after, callback_data.skip)
    if not page:
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.answer(_("That was the last page."))
        return
    await edit_screen(callback, page_text(page, account, sites, now), more_button(page, sites) if more else None)
    await callback.answer()


async def open_section(callback: CallbackQuery, account: Account) -> None:
    text, keyboard = await first_page(account, [])
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=keyboard)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="upcoming")
    router.message.register(show_upcoming, Command("upcoming"))
    router.callback_query.register(show_more, MoreContests.filter())
    router.callback_query.register(open_section, OpenSection.filter(F.section == "upcoming"))
    return router
