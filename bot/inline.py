"""Inline mode: `@bot` or `@bot SITE...` typed in any chat offers the next contests to share, chosen by the
user's own filters and shown in their zone and language (their account is that of their private chat).

What is shared is read later and elsewhere: it gives the start as an absolute time with its UTC offset
("Sat, 28 Nov, 17:35 (UTC+3)"), never "in 18 min" (stale once sent) nor the sender's zone name alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from html import escape

from aiogram import Router
from aiogram.types import InlineQuery, InlineQueryResultArticle, InputTextMessageContent
from aiogram.utils.i18n import gettext as _

from bot.formatting import site_name
from models.account import Account
from models.catalog import listed_slugs
from models.contest import Contest
from models.selection import ContestFilter, upcoming
from notify.formatting import local_time, relative, span
from notify.rules import similar_sites
from notify.zones import zone_of

MAX_RESULTS = 20
CACHE_SECONDS = 30
#: an unknown site's answer names this many sites (popular ones first)
SHOWN_SITES = 6
_WORDS = re.compile(r"[\s,;]+")


def sites_in_query(query: str, listed: list[str]) -> tuple[list[str], list[str]]:
    """The sites an inline query names, matched as the user types: a whole slug names its site, the start of
    slugs names each of them ("codef" -> codeforces, codeforces-gym). Words that name none come second."""
    known: list[str] = []
    unknown: list[str] = []
    for word in _WORDS.split(query.strip().lower()):
        if not word:
            continue
        matches = [word] if word in listed else [slug for slug in listed if slug.startswith(word)]
        if not matches and word not in unknown:
            unknown.append(word)
        known.extend(slug for slug in matches if slug not in known)
    return known, unknown


def shared_text(contest: Contest, zone: tzinfo, language: str) -> str:
    """The message a chosen contest becomes (HTML): title, site, absolute start with its offset, duration, link."""
    return (
        f"<b>{escape(contest.title)}</b>\n"
        f"{escape(site_name(contest.site_id))} · {local_time(contest.start, zone, language)}\n"
        + _("Duration: {duration}").format(duration=span(contest.duration))
        + f' · <a href="{escape(contest.url, quote=True)}">' + _("open") + "</a>"
    )


def contest_article(contest: Contest, zone: tzinfo, language: str, now: datetime) -> InlineQueryResultArticle:
    """A contest to share: in the list (seen by the sender only, now) its title, when it starts and how soon;
    once chosen, the shared text."""
    return InlineQueryResultArticle(
        id=f"contest-{contest.id}",
        title=contest.title,
        description=f"{site_name(contest.site_id)} · {local_time(contest.start, zone, language)} · "
                    f"{relative(contest.start, now)}",
        input_message_content=InputTextMessageContent(message_text=shared_text(contest, zone, language)),
    )


def some_sites(listed: list[str]) -> str:
    """The first few sites (popular ones first) and how many there are: "codeforces, atcoder, … (60 in all)"."""
    if len(listed) <= SHOWN_SITES:
        return ", ".join(listed)
    return _("{sites}, … ({count} in all)").format(sites=", ".join(listed[:SHOWN_SITES]), count=len(listed))


def unknown_site_article(unknown: list[str], listed: list[str]) -> InlineQueryResultArticle:
    similar = similar_sites(unknown, listed)
    return InlineQueryResultArticle(
        id="unknown-site",
        title=_("Unknown site: {names}").format(names=", ".join(word[:40] for word in unknown[:5])),
        description=(_("Did you mean {sites}?").format(sites=", ".join(similar)) if similar
                     else _("Type the start of a site, e.g. {sites}").format(sites=some_sites(listed))),
        input_message_content=InputTextMessageContent(
            message_text=escape(_("Contest sites I know: {sites}. /sites in the bot shows every one.").format(
                sites=some_sites(listed)))),
    )


async def offer_contests(inline_query: InlineQuery, account: Account) -> None:
    listed = await listed_slugs()  # also refreshes the names the results show
    sites, unknown = sites_in_query(inline_query.query, listed)
    if unknown:
        await inline_query.answer([unknown_site_article(unknown, listed)], cache_time=CACHE_SECONDS, is_personal=True)
        return
    now = datetime.now(UTC)
    contests = await upcoming(ContestFilter.of(account, sites), now).limit(MAX_RESULTS)
    zone = zone_of(account.timezone)
    results = [contest_article(contest, zone, account.language, now) for contest in contests]
    await inline_query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)


def make_router() -> Router:
    router = Router(name="inline")
    router.inline_query.register(offer_contests)
    return router
