"""Finds the sources of contests: the site modules in `fetchers/` (adding a site means adding one file that defines
SITE), the iCalendar feeds and the clist.by upstream that the operator configures.

Every source is a SiteModule: its SITE info, a pure `parse()` of a saved answer and `fetch()`. A native module or
a feed fills one site; the clist upstream fills many (`fans_out`), each contest naming its own site.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

import fetchers
from fetchers.contest import Contest, SiteInfo
from fetchers.http import SiteClient

#: Modules of this package that are machinery, not sites.
INFRASTRUCTURE = frozenset({
    "changes", "contest", "events", "feeds", "health", "http", "ical", "ingest", "pipeline", "registry", "tasks",
})

_configured: dict[str, SiteModule] = {}


class UnknownSite(KeyError):
    """A site slug that no module defines; the message lists the ones that exist."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class SiteModule:
    info: SiteInfo
    parse: Callable[[Any], list[Contest]]
    fetch: Callable[[SiteClient], Awaitable[list[Contest]]]
    #: the source's contests belong to many sites (clist): `site_info` tells each one's name and address
    site_info: Callable[[Contest], SiteInfo] | None = None

    @property
    def slug(self) -> str:
        return self.info.slug


def discovered_modules() -> Iterable[Any]:
    for module_info in pkgutil.iter_modules(fetchers.__path__):
        if module_info.name not in INFRASTRUCTURE:
            yield importlib.import_module(f"fetchers.{module_info.name}")


@cache
def native_sites() -> dict[str, SiteModule]:
    """Every site module of this package, keyed by slug, in slug order (the clist upstream is not one)."""
    found = {
        module.SITE.slug: SiteModule(info=module.SITE, parse=module.parse, fetch=module.fetch)
        for module in discovered_modules() if not getattr(module, "UPSTREAM", False)
    }
    return dict(sorted(found.items()))


def clist_source(username: str, api_key: str) -> SiteModule:
    """The clist.by upstream, fetching with these credentials."""
    from fetchers import clist

    credentials = clist.Credentials(username, api_key)
    return SiteModule(info=clist.SITE, parse=clist.parse, fetch=partial(clist.fetch_pages, credentials=credentials),
                      site_info=lambda contest: clist.site_of_resource(str((contest.details or {})["resource"])))


def configure_sources(sources: Iterable[SiteModule]) -> None:
    """Add the operator's sources (feeds, clist) to the native sites; a slug may name only one source."""
    _configured.clear()
    for source in sources:
        if source.slug in native_sites() or source.slug in _configured:
            raise ValueError(f"the source {source.slug!r} has the slug of another site; pick another")
        _configured[source.slug] = source


def all_sites() -> dict[str, SiteModule]:
    """Every source this process fetches or can parse: native sites and the configured ones, in slug order."""
    return dict(sorted({**native_sites(), **_configured}.items()))


def get_site(slug: str) -> SiteModule:
    """A source by slug; `clist` is always known, so that saved clist answers can be parsed without a key."""
    if slug == "clist" and slug not in _configured:
        return clist_source("", "")
    try:
        return all_sites()[slug]
    except KeyError:
        raise UnknownSite(f"unknown site {slug!r}; known sites: {', '.join(all_sites())}") from None


def selected_sites(selection: list[str] | None) -> list[SiteModule]:
    """The sources named (all of them for None); an unknown name raises UnknownSite."""
    if selection is None:
        return list(all_sites().values())
    return [get_site(slug) for slug in selection]
