"""/upcoming [SITE...]: the next contests that match the chat's filters (or only the named sites), ten entries a
page, in the chat's zone (named once, in the header) and language. The divisions of one round that start together
are one entry (notify/events.py). ◀ and ▶ page back and on by editing the message.

Pages are numbered from the moment the first page was drawn (`UpcomingPage.since`): every button of one list reads
the same contests from that moment and slices the same entries, so paging on and back neither skips nor repeats
one. A page whose first contest has started since is out of date: the list starts again from now."""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from dataclasses import dataclass
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

from bot.formatting import event_text, site_name
from bot.screens import OpenSection, edit_screen
from models.account import Account
from models.catalog import listed_sites, listed_slugs
from models.contest import Contest
from models.selection import ContestFilter, upcoming
from notify.events import Event, group_events
from notify.formatting import times_in
from notify.rules import similar_sites
from notify.zones import zone_of

PAGE_SIZE = 10
#: the contests one list reads at most; with fewer, the header also says how many entries there are in all
READ_LIMIT = 500
#: the last page a button may ask for (its entries are within what one list reads)
MAX_PAGE = READ_LIMIT // PAGE_SIZE - 1
#: the last second a button's moment may name (the end of year 9999)
LAST_MOMENT = 253402300799
#: `UpcomingPage.sites` when it holds site ids, not slugs
BY_ID = "~"
SLUG = r"[a-z0-9_-]{1,40}"
SITE_ID = r"[A-Za-z0-9_-]{4}"
_WORDS = re.compile(r"[\s,;]+")


class UpcomingPage(CallbackData, prefix="up"):
    """Page `page` (0 is the first) of the list drawn at `since` (unix seconds), on `sites`:

    - "" : the chat's own sites (as they are when the button is pressed);
    - "atcoder,luogu": the sites named in the command, by slug, when that fits Telegram's 64 bytes;
    - "~" and 4 characters per site: the same sites by `site_id`, when the slugs would not fit (up to 11 sites;
      naming more leaves the list without paging buttons).

    Slugs and site ids never change, so a site added later does not shift what a button sent earlier names.
    Whether each one is a listed site is checked when the button is pressed (`named_sites_listed`). Older formats
    ("more:AFTER:SKIP:SITES", "upcoming:AFTER:SKIP:MASK") match no handler (bot/stale.py)."""

    since: Annotated[int, Field(ge=0, le=LAST_MOMENT)]
    page: Annotated[int, Field(ge=0, le=MAX_PAGE)]
    sites: Annotated[str, Field(pattern=rf"^(|{SLUG}(,{SLUG})*|{BY_ID}({SITE_ID})+)$")] = ""


def site_id(slug: str) -> str:
    """A site's short id in callback data: 4 characters of a hash of its slug (24 bits: two of a few hundred sites
    share one about once in a thousand catalogs, and a shared id is answered as an out-of-date button)."""
    return base64.urlsafe_b64encode(blake2b(slug.encode(), digest_size=3).digest()).decode()


def packed_sites(slugs: list[str]) -> str:
    return ",".join(slugs)


def sites_by_id(slugs: list[str]) -> str:
    return BY_ID + "".join(site_id(slug) for slug in slugs)


def page_data(since: int, page: int, slugs: list[str]) -> str | None:
    """A paging button's callback data: the slugs when they fit, else the site ids; None when neither fits."""
    for sites in (packed_sites(slugs), sites_by_id(slugs)):
        try:
            return UpcomingPage(since=since, page=page, sites=sites).pack()
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


async def named_sites_listed(callback: CallbackQuery, callback_data: UpcomingPage) -> dict[str, Any] | bool:
    """The filter of the paging buttons: their sites are listed sites now; the handler gets them as `sites`."""
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


@dataclass(frozen=True, slots=True)
class Listing:
    """The entries of a list from its moment on, numbered from 1; `complete` when they are all there is (else
    the list was cut at `READ_LIMIT` contests, and entries past them are not known)."""

    since: datetime
    events: list[Event[Contest]]
    complete: bool

    def pages(self) -> int:
        return max(1, -(-len(self.events) // PAGE_SIZE))

    def page(self, number: int) -> list[Event[Contest]]:
        return self.events[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]

    def has_after(self, number: int) -> bool:
        return len(self.events) > (number + 1) * PAGE_SIZE or not self.complete


async def read_listing(selection: ContestFilter, since: datetime) -> Listing:
    """The entries from `since` on. When the read is cut at `READ_LIMIT`, the contests of its last start are left
    out: a round's divisions share a start, so no entry is ever cut in two (and the next read starts there)."""
    found = await upcoming(selection, since).limit(READ_LIMIT)
    complete = len(found) < READ_LIMIT
    if not complete and found[0].start != found[-1].start:
        found = [contest for contest in found if contest.start != found[-1].start]
    return Listing(since, group_events(found), complete)


def overtaken(page: list[Event[Contest]], now: datetime) -> bool:
    """A page whose first contest has started: the list it belongs to is no longer "upcoming"."""
    return bool(page) and page[0].first.start <= now


def sites_label(slugs: list[str]) -> str:
    return escape(", ".join(site_name(slug) for slug in slugs))


def range_text(listing: Listing, number: int) -> str:
    """ "11–20 of 34", or "11–20" when the list was cut; nothing for a list of one page."""
    first, shown = number * PAGE_SIZE + 1, len(listing.page(number))
    if number == 0 and not listing.has_after(0):
        return ""
    if listing.complete:
        return _("{first}–{last} of {total}").format(first=first, last=first + shown - 1, total=len(listing.events))
    return f"{first}–{first + shown - 1}"


def header(account: Account, sites: list[str], listing: Listing, number: int, now: datetime) -> str:
    title = (_("Upcoming contests on {sites}").format(sites=sites_label(sites)) if sites
             else _("Upcoming contests"))
    shown = range_text(listing, number)
    zone = times_in(account.timezone, account.language, now)
    return f"<b>{title}</b>" + (f" · {shown}" if shown else "") + "\n" + zone


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


def paging_row(listing: Listing, number: int, sites: list[str]) -> list[InlineKeyboardButton] | None:
    """◀ to the page before and ▶ to the next where there is one; None when a button cannot name the sites."""
    since = int(listing.since.timestamp())
    wanted = [(number - 1, "◀ " + _("Back")) if number > 0 else None,
              (number + 1, _("More") + " ▶") if listing.has_after(number) and number < MAX_PAGE else None]
    row = []
    for target, label in filter(None, wanted):
        data = page_data(since, target, sites)
        if data is None:
            return None
        row.append(InlineKeyboardButton(text=label, callback_data=data))
    return row


def page_screen(listing: Listing, number: int, account: Account, sites: list[str],
                now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `number` of the list (the last one when past it), with its paging buttons."""
    if not listing.events:
        return nothing_text(sites), None
    number = min(number, listing.pages() - 1)
    text = "\n\n".join((header(account, sites, listing, number, now),
                         *(event_text(event, zone_of(account.timezone), account.language, now)
                           for event in listing.page(number))))
    row = paging_row(listing, number, sites)
    if row is None:
        text += "\n\n" + _("More contests follow. To page through them, name fewer sites, or follow these with "
                            "/subscribe and send /upcoming alone.")
    return text, InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def first_page(account: Account, sites: list[str], now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    listing = await read_listing(ContestFilter.of(account, sites), now.replace(microsecond=0))
    return page_screen(listing, 0, account, sites, now)


async def show_upcoming(message: Message, command: CommandObject, account: Account) -> None:
    listed = await listed_slugs()  # also refreshes the names the page shows
    sites, unknown = parse_sites(command.args, listed)
    if unknown:
        await message.answer(unknown_sites_text(unknown, listed))
        return
    text, keyboard = await first_page(account, sites, datetime.now(UTC))
    await message.answer(text, reply_markup=keyboard)


async def turn_page(callback: CallbackQuery, callback_data: UpcomingPage, account: Account,
                    sites: list[str]) -> None:
    """◀ or ▶: the page of the same list, or the list from now when that page's contests have begun."""
    now = datetime.now(UTC)
    since = min(datetime.fromtimestamp(callback_data.since, UTC), now)
    listing = await read_listing(ContestFilter.of(account, sites), since)
    if overtaken(listing.page(min(callback_data.page, listing.pages() - 1)), now):
        await edit_screen(callback, *await first_page(account, sites, now))
        await callback.answer(_("Some of these contests have started: here is the list from now."))
        return
    await edit_screen(callback, *page_screen(listing, callback_data.page, account, sites, now))
    await callback.answer()


async def open_section(callback: CallbackQuery, account: Account) -> None:
    await listed_sites()  # the names the page shows
    text, keyboard = await first_page(account, [], datetime.now(UTC))
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=keyboard)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="upcoming")
    router.message.register(show_upcoming, Command("upcoming"))
    router.callback_query.register(turn_page, UpcomingPage.filter(), named_sites_listed)
    router.callback_query.register(open_section, OpenSection.filter(F.section == "upcoming"))
    return router
