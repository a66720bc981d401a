"""The sites people can pick, as the bot, the web pages and the API list them: from the database, where every source
(native modules, operator-listed iCalendar feeds, clist.by) keeps its sites' rows.

Listing order groups them: the popular sites first (the set new accounts follow, in that order), then the rest
alphabetically by display name. Display names are also kept in memory for code that renders without a database
round trip (message texts); every listing refreshes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.contest import Site
from models.selection import POPULAR_SITES

_known_names: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class ListedSite:
    slug: str
    name: str
    url: str
    popular: bool
    #: None for a site fetched on its own, else the source that reads it ("clist")
    source: str | None = None


def listing_order(site: ListedSite) -> tuple[int, str, str]:
    """Popular sites in their own order, then everyone else by name (case and accents folded by casefold)."""
    if site.popular:
        return (POPULAR_SITES.index(site.slug), "", site.slug)
    return (len(POPULAR_SITES), site.name.casefold(), site.slug)


async def listed_sites() -> list[ListedSite]:
    """Every site people can pick, grouped: popular first, then alphabetical."""
    rows = await Site.filter(listed=True).values_list("slug", "name", "url", "source")
    sites = [ListedSite(slug, name, url, slug in POPULAR_SITES, source) for slug, name, url, source in rows]
    _known_names.clear()
    _known_names.update((site.slug, site.name) for site in sites)
    return sorted(sites, key=listing_order)


async def listed_slugs() -> list[str]:
    return [site.slug for site in await listed_sites()]


def site_name(slug: str) -> str:
    """The display name of a site as last listed (the slug when it was never listed in this process)."""
    return _known_names.get(slug, slug)
