"""/upcoming [SITE...]: the next contests that match the chat's filters (or only the named sites), ten at a
time, in the chat's zone and language; a "More" button pages on by editing the message."""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from datetime import UTC, datetime
from hashlib import blake2b
from html import escape
from typing import Annotated, Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot.formatting import contest_text, site_name
from bot.screens import OpenSection, edit_screen
from models.account import Account
from models.catalog import listed_sites, listed_slugs
from models.contest import Contest
from models.selection import ContestFilter, upcoming
from notify.rules import similar_sites
from notify.zones import zone_of

PAGE_SIZE = 10
#: the last second a cursor may name (the end of year 9999)
LAST_MOMENT = 253402300799
#: `MoreContests.sites` when it holds site ids, not slugs
BY_ID = "~"
SLUG = r"[a-z0-9_-]{1,40}"
SITE_ID = r"[A-Za-z0-9_-]{4}"
_WORDS = re.compile(r"[\s,;]+")


class MoreContests(CallbackData, prefix="more"):
    """The next page: contests starting at or after `after` (unix seconds), past the first `skip` of those
    (the ones already shown), on `sites`:

    - "" : the chat's own sites (as they are when the button is pressed);
    - "atcoder,luogu": the sites named in the command, by slug, when that fits Telegram's 64 bytes;
    - "~" and 4 characters per site: the same sites by `site_id`, when the slugs would not fit (up to 10 sites;
      naming more leaves the list without a "More" button).

    Slugs and site ids never change, so a site added later does not shift what a button sent earlier names.
    Whether each one is a listed site is checked when the button is pressed (`named_sites_listed`); the older
    format, a bit mask over the sorted sites under the prefix "upcoming", matches no handler (bot/stale.py)."""

    after: Annotated[int, Field(ge=0, le=LAST_MOMENT)]
    skip: Annotated[int, Field(ge=0, le=PAGE_SIZE)]
    sites: Annotated[str, Field(pattern=rf"^(|{SLUG}(,{SLUG})*|{BY_ID}({SITE_ID})+)$")] = ""


def site_id(slug: str) -> str:
    """A site's short id in callback data: 4 characters of a hash of its slug (24 bits: two of a few hundred sites
    share one about once in a thousand catalogs, and a shared id is answered as an out-of-date button)."""
    return base64.urlsafe_b64encode(blake2b(slug.encode(), digest_size=3).digest()).decode()


def packed_sites(slugs: list[str]) -> str:
    return ",".join(slugs)


def sites_by_id(slugs: list[str]) -> str:
    return BY_ID + "".join(site_id(slug) for slug in slugs)


def more_data(after: int, skip: int, slugs: list[str]) -> str | None:
    """The "More" button's callback data: the slugs when they fit, else the site ids; None when neither fits."""
    for sites in (packed_sites(slugs), sites_by_id(slugs)):
        try:
            return MoreContests(after=after, skip=skip, sites=sites).pack()
        except ValueError:  # longer than Telegram's 64 bytes (aiogram checks)
            continue
    return None


def unpacked_sites(sites: str, listed: list[str]) -> list[str] | None:
    """The slugs a button's `sites` names, each a listed site now; None when one is not (or an id is shared)."""
    if not sites:
        return []
    if not sites.startswith(BY_ID):
        slugs = sites.split(",")
        return slugs if set(slugs) <= set(listed) else None
    ids = [sites[i:i + 4] for i in range(len(BY_ID), len(sites), 4)]
    by_id: dict[str, list[str]] = {}
    for slug in listed:
        by_id.setdefault(site_id(slug), []).append(slug)
    found = [by_id.get(identity, []) for identity in ids]
    return [slugs[0] for slugs in found] if all(len(slugs) == 1 for slugs in found) else None


async def named_sites_listed(callback: CallbackQuery, callback_data: MoreContests) -> dict[str, Any] | bool:
    """The filter of the "More" button: its sites are listed sites now; the handler gets them as `sites`."""
    sites = unpacked_sites(callback_data.sites, await listed_slugs())
    return {"sites": sites} if sites is not None else False


def parse_sites(args: str | None, listed: Collection[str]) -> tuple[list[str], list[str]]:
    """The site slugs named in a command's arguments and the words that name no site:
    "AtCoder, codeforces foo" -> (["atcoder", "codeforces"], ["foo"])."""
    known, unknown = [], []
    for word in _WORDS.split((args or "").strip()):
        slug = word.lower()
        if slug in listed:
            if slug not in known:
                known.append(slug)
        elif word and word not in unknown:
            unknown.append(word)
    return known, unknown


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


def unknown_sites_text(unknown: list[str], listed: Collection[str]) -> str:
    names = ", ".join(escape(word[:40]) for word in unknown[:5]) + (", …" if len(unknown) > 5 else "")
    text = _("I don't know these sites: {names}.").format(names=names)
    similar = similar_sites(unknown, listed)
    if similar:
        text += " " + _("Did you mean {sites}?").format(sites=", ".join(similar))
    return text + " " + _("/sites shows every site. Example: /upcoming codeforces atcoder")


def more_button(page: list[Contest], sites: list[str]) -> InlineKeyboardMarkup | None:
    data = more_data(*next_cursor(page), sites)
    if data is None:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=_("More"), callback_data=data)]])


def page_screen(page: list[Contest], more: bool, account: Account, sites: list[str],
                now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page and its "More" button (when more follow and the button can name the sites)."""
    text = page_text(page, account, sites, now)
    keyboard = more_button(page, sites) if more else None
    if more and keyboard is None:
        text += "\n\n" + _("More contests follow. To page through them, name fewer sites, or follow these with "
                            "/subscribe and send /upcoming alone.")
    return text, keyboard


async def first_page(account: Account, sites: list[str]) -> tuple[str, InlineKeyboardMarkup | None]:
    now = datetime.now(UTC)
    page, more = await contests_page(ContestFilter.of(account, sites), now)
    if not page:
        return nothing_text(sites), None
    return page_screen(page, more, account, sites, now)


async def show_upcoming(message: Message, command: CommandObject, account: Account) -> None:
    listed = await listed_slugs()  # also refreshes the names the page shows
    sites, unknown = parse_sites(command.args, listed)
    if unknown:
        await message.answer(unknown_sites_text(unknown, listed))
        return
    text, keyboard = await first_page(account, sites)
    await message.answer(text, reply_markup=keyboard)


async def show_more(callback: CallbackQuery, callback_data: MoreContests, account: Account,
                    sites: list[str]) -> None:
    if not isinstance(callback.message, Message):  # too old to edit
        await callback.answer(_("This list is too old; send /upcoming again."), show_alert=True)
        return
    now = datetime.now(UTC)
    page, more = await contests_page(ContestFilter.of(account, sites), now, callback_data.after, callback_data.skip)
    if not page:
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.answer(_("That was the last page."))
        return
    await edit_screen(callback, *page_screen(page, more, account, sites, now))
    await callback.answer()


async def open_section(callback: CallbackQuery, account: Account) -> None:
    await listed_sites()  # the names the page shows
    text, keyboard = await first_page(account, [])
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=keyboard)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="upcoming")
    router.message.register(show_upcoming, Command("upcoming"))
    router.callback_query.register(show_more, MoreContests.filter(), named_sites_listed)
    router.callback_query.register(open_section, OpenSection.filter(F.section == "upcoming"))
    return router
