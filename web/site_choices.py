"""The site picker of the calendar's filter and of the account's settings: the catalog's sites (models/catalog.py)
in two groups, the popular ones and then every other site from A to Z, as checkboxes that work without a script;
web/static/calendar.js adds a search box that narrows the list as one types."""

from __future__ import annotations

from dataclasses import dataclass

from models.catalog import ListedSite
from notify.i18n import N_


@dataclass(frozen=True, slots=True)
class SiteGroup:
    #: marked for translation; the template translates it in the page's language
    label: str
    sites: list[ListedSite]


def site_groups(catalog: list[ListedSite]) -> list[SiteGroup]:
    """The catalog (already in listing order) as its groups, leaving out an empty one."""
    groups = (SiteGroup(N_("Popular sites"), [site for site in catalog if site.popular]),
              SiteGroup(N_("All other sites, A–Z"), [site for site in catalog if not site.popular]))
    return [group for group in groups if group.sites]
