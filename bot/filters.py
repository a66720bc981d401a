"""/filter: keywords a contest's title must (include) or must not (exclude) contain, and duration limits.

`/filter include div 2, educational` (commas between keywords; spaces inside one stay), `/filter exclude kotlin`,
`/filter remove kotlin`, `/filter min 30m`, `/filter max 5h`, `/filter max off`, `/filter clear`. Keywords are
kept in lower case and matched loosely (models.selection: case, spaces and punctuation do not count, so "div 2"
finds "(Div. 2)"). After a change the screen says how many upcoming contests now match, and warns when none do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Literal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import Field, model_validator

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen, refusal_text
from models.account import Account
from models.contest import Contest, Site
from models.selection import ContestFilter, upcoming
from notify.formatting import span
from notify.i18n import ngettext
from notify.preferences import MAX_KEYWORDS
from notify.rules import (
    SettingProblem,
    TooManyKeywords,
    check_duration_limits,
    parse_keywords,
    parse_limit,
    same_keyword,
    shortened,
)

SIDES = ("include", "exclude")


@dataclass(frozen=True, slots=True)
class Filters:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_duration: int | None = None
    max_duration: int | None = None

    @classmethod
    def of(cls, account: Account) -> Filters:
        return cls(tuple(account.include_keywords or ()), tuple(account.exclude_keywords or ()),
                   account.min_duration, account.max_duration)

    def keywords(self, side: str) -> tuple[str, ...]:
        return self.include if side == "include" else self.exclude


class NotAFilterCommand(SettingProblem):
    """/filter with words it does not take."""

    def text(self) -> str:
        return _("I don't understand that. Try one of these:") + "\n" + usage()


class NotAKeyword(SettingProblem):
    def text(self) -> str:
        return _("“{keyword}” is not one of your keywords.").format(keyword=shortened(self.typed))


def change_filters(filters: Filters, args: str) -> Filters:
    """The filters after one /filter command (its arguments); a SettingProblem when it cannot apply."""
    words = args.split(maxsplit=1)
    action = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if action in SIDES and (keywords := parse_keywords(rest)):
        return with_keywords(filters, action, keywords)
    if action == "remove" and (named := parse_keywords(rest)):
        return without_keywords(filters, named)
    if action in ("min", "max") and rest:
        return with_limit(filters, action, rest)
    if action == "clear" and not rest.strip():
        return Filters()
    raise NotAFilterCommand(args)


def with_keywords(filters: Filters, side: str, keywords: tuple[str, ...]) -> Filters:
    for keyword in keywords:
        filters = with_keyword(filters, side, keyword)
    return filters


def with_keyword(filters: Filters, side: str, keyword: str) -> Filters:
    """The keyword added on one side (and taken off the other side, where it would contradict itself); one that
    matches like a kept one ("div2" beside "div. 2") changes nothing."""
    kept = filters.keywords(side)
    if any(same_keyword(keyword, k) for k in kept):
        return filters
    if len(kept) >= MAX_KEYWORDS:
        raise TooManyKeywords(keyword)
    other = "exclude" if side == "include" else "include"
    others = tuple(k for k in filters.keywords(other) if not same_keyword(k, keyword))
    return replace(filters, **{side: (*kept, keyword), other: others})


def without_keywords(filters: Filters, named: tuple[str, ...]) -> Filters:
    """The filters without the named keywords (each matched loosely, as titles are); NotAKeyword for the first
    one that names none of them."""
    for keyword in named:
        if not any(same_keyword(keyword, k) for k in filters.include + filters.exclude):
            raise NotAKeyword(keyword)
    return replace(filters, include=tuple(k for k in filters.include if not any(same_keyword(k, n) for n in named)),
                   exclude=tuple(k for k in filters.exclude if not any(same_keyword(k, n) for n in named)))


def with_limit(filters: Filters, which: str, text: str) -> Filters:
    seconds = parse_limit(text)
    changed = replace(filters, min_duration=seconds) if which == "min" else replace(filters, max_duration=seconds)
    check_duration_limits(changed.min_duration, changed.max_duration)
    return changed


def usage() -> str:
    return "\n".join((
        _("/filter include div 2, educational — show only contests whose title has one of these keywords "
          "(case, spaces and dots don't matter)"),
        _("/filter exclude kotlin — hide contests whose title has this"),
        _("/filter remove kotlin — forget a keyword"),
        _("/filter min 30m, /filter max 5h — duration limits (m, h, d); /filter max off drops one"),
        _("/filter clear — no filters at all"),
    ))


def quoted(keywords: tuple[str, ...]) -> str:
    return ", ".join(_("“{keyword}”").format(keyword=escape(keyword)) for keyword in keywords)


def durations_text(filters: Filters) -> str:
    shortest, longest = filters.min_duration, filters.max_duration
    if shortest is not None and longest is not None:
        return _("Duration: from {min} to {max}").format(min=span(shortest), max=span(longest))
    if shortest is not None:
        return _("Duration: at least {min}").format(min=span(shortest))
    if longest is not None:
        return _("Duration: at most {max}").format(max=span(longest))
    return _("Duration: any")


def keyword_key(keyword: str) -> str:
    """A short stand-in for a keyword in callback data (a keyword can be longer than a button allows)."""
    return hashlib.sha1(keyword.encode()).hexdigest()[:10]


class FilterDrop(CallbackData, prefix="filter"):
    what: Literal["include", "exclude", "min", "max", "all"]
    key: Annotated[str, Field(pattern=r"^(?:[0-9a-f]{10})?$")] = ""  # a keyword_key() for include and exclude

    @model_validator(mode="after")
    def _key_only_for_keywords(self) -> FilterDrop:
        if bool(self.key) != (self.what in SIDES):
            raise ValueError("a keyword's button names its key, the others none")
        return self


def dropped(filters: Filters, drop: FilterDrop) -> Filters | None:
    """The filters without what the button names; None when that is already gone."""
    if drop.what in SIDES:
        kept = filters.keywords(drop.what)
        left = tuple(k for k in kept if keyword_key(k) != drop.key)
        return replace(filters, **{drop.what: left}) if len(left) < len(kept) else None
    if drop.what == "min":
        return replace(filters, min_duration=None) if filters.min_duration is not None else None
    if drop.what == "max":
        return replace(filters, max_duration=None) if filters.max_duration is not None else None
    return Filters() if filters != Filters() else None


@dataclass(frozen=True, slots=True)
class Reach:
    """What saved filters let through now: how many upcoming contests of the followed sites, and which of those
    sites (with upcoming contests) they hide entirely: a Codeforces-only keyword hides every AtCoder round."""

    matching: int
    hidden_sites: tuple[str, ...] = ()  # their names


def matching_text(filters: Filters, reach: Reach) -> str | None:
    """How many upcoming contests of the followed sites the filters let through; a warning when none do, or when
    they hide every contest of some sites."""
    if not reach.matching:
        if filters == Filters():
            return None
        return _("⚠️ No upcoming contest on your sites matches these filters, so you would get no reminders. Try "
                 "another keyword, or /filter clear to drop them all.")
    counted = ngettext("{n} upcoming contest on your sites matches these filters.",
                       "{n} upcoming contests on your sites match these filters.", reach.matching).format(
        n=reach.matching)
    if not reach.hidden_sites:
        return counted
    hidden = ", ".join(escape(name) for name in reach.hidden_sites)
    return counted + "\n" + _("⚠️ They hide every upcoming contest of {sites}.").format(sites=hidden)


async def sites_with_upcoming(selection: ContestFilter, now: datetime) -> set[str]:
    return set(await Contest.filter(selection.condition(), start__gt=now).distinct().values_list("site_id", flat=True))


async def reach_of(account: Account) -> Reach:
    """What the account's (saved) filters let through of its sites' upcoming contests."""
    now = datetime.now(UTC)
    selection = ContestFilter.of(account)
    matching = await upcoming(selection, now).count()
    if not matching or selection == ContestFilter(sites=selection.sites):
        return Reach(matching)
    followed = await sites_with_upcoming(ContestFilter(sites=selection.sites), now)
    hidden = followed - await sites_with_upcoming(selection, now)
    return Reach(matching, tuple(await Site.filter(slug__in=hidden).order_by("name").values_list("name", flat=True)))


def filters_screen(filters: Filters, reach: Reach | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """The filters, what they let through (when counted) and how to change them."""
    counted = matching_text(filters, reach) if reach is not None else None
    text = "\n".join((
        _("<b>Filters</b>"),
        _("Only titles with: {keywords}").format(keywords=quoted(filters.include)) if filters.include
        else _("Only titles with: (any title)"),
        _("Hidden when the title has: {keywords}").format(keywords=quoted(filters.exclude)) if filters.exclude
        else _("Hidden when the title has: (nothing)"),
        durations_text(filters),
        *(("", counted) if counted else ()),
        "",
        usage(),
    ))
    buttons = [
        InlineKeyboardButton(text=f"✕ {sign}{keyword}",
                             callback_data=FilterDrop(what=side, key=keyword_key(keyword)).pack())
        for side, sign in (("include", "+"), ("exclude", "−")) for keyword in filters.keywords(side)
    ]
    if filters.min_duration is not None:
        buttons.append(InlineKeyboardButton(text="✕ ≥ " + span(filters.min_duration),
                                            callback_data=FilterDrop(what="min").pack()))
    if filters.max_duration is not None:
        buttons.append(InlineKeyboardButton(text="✕ ≤ " + span(filters.max_duration),
                                            callback_data=FilterDrop(what="max").pack()))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if buttons:
        rows.append([InlineKeyboardButton(text=_("Clear all filters"), callback_data=FilterDrop(what="all").pack())])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def screen_of(account: Account) -> tuple[str, InlineKeyboardMarkup]:
    """The account's filter screen, with what its filters let through now."""
    return filters_screen(Filters.of(account), await reach_of(account))


async def show_filters(message: Message, account: Account) -> None:
    text, keyboard = await screen_of(account)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def change(message: Message, command: CommandObject, account: Account) -> None:
    try:
        filters = change_filters(Filters.of(account), command.args or "")
    except SettingProblem as problem:
        await message.reply(refusal_text(problem))
        return
    await save_filters(account, filters)
    text, keyboard = await screen_of(account)
    await message.answer(text, reply_markup=keyboard)


@admins_only
async def drop(callback: CallbackQuery, callback_data: FilterDrop, account: Account) -> None:
    filters = dropped(Filters.of(account), callback_data)
    if filters is None:
        await callback.answer(_("That filter is already gone."))
    else:
        await save_filters(account, filters)
        await callback.answer()
    await edit_screen(callback, *await screen_of(account))


async def open_filters(callback: CallbackQuery, account: Account) -> None:
    await callback.answer()
    await open_screen(callback, *await screen_of(account))


async def save_filters(account: Account, filters: Filters) -> None:
    account.include_keywords, account.exclude_keywords = list(filters.include), list(filters.exclude)
    account.min_duration, account.max_duration = filters.min_duration, filters.max_duration
    await account.save(update_fields=["include_keywords", "exclude_keywords", "min_duration", "max_duration"])


def make_router() -> Router:
    router = Router(name="filters")
    router.message.register(change, Command("filter", magic=F.args))
    router.message.register(show_filters, Command("filter"))
    router.callback_query.register(drop, FilterDrop.filter())
    router.callback_query.register(open_filters, OpenSection.filter(F.section == "filter"))
    return router
