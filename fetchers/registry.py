"""Finds the site modules in `fetchers/`: adding a site means adding one file that defines SITE."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import fetchers
from fetchers.contest import Contest, SiteInfo
from fetchers.http import SiteClient

#: Modules of this package that are machinery, not sites.
INFRASTRUCTURE = frozenset({
    "changes", "contest", "events", "health", "http", "ingest", "pipeline", "registry", "tasks",
})


class UnknownSite(KeyError):
    """A site slug that no module defines; the message lists the ones that exist."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class SiteModule:
    info: SiteInfo
    parse: Callable[[Any], list[Contest]]
    fetch: Callable[[SiteClient], Awaitable[list[Contest]]]

    @property
    def slug(self) -> str:
        return self.info.slug


@cache
def all_sites() -> dict[str, SiteModule]:
    """Every site module, keyed by slug, in slug order."""
    found: dict[str, SiteModule] = {}
    for module_info in pkgutil.iter_modules(fetchers.__path__):
        if module_info.name in INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"fetchers.{module_info.name}")
        site = SiteModule(info=module.SITE, parse=module.parse, fetch=module.fetch)
        found[site.slug] = site
    return dict(sorted(found.items()))


def get_site(slug: str) -> SiteModule:
    try:
        return all_sites()[slug]
    except KeyError:
        raise UnknownSite(f"unknown site {slug!r}; known sites: {', '.join(all_sites())}") from None


def selected_sites(selection: list[str] | None) -> list[SiteModule]:
    """The sites named (all of them for None); an unknown name raises UnknownSite."""
    if selection is None:
        return list(all_sites().values())
    return [get_site(slug) for slug in selection]
