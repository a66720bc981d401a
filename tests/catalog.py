"""A catalog of many sites, as the clist.by upstream and operator-listed iCalendar feeds make it: rows of the site
table beside those of the native site modules (tests/conftest.py puts those in every test database)."""

from __future__ import annotations

from models.catalog import listed_slugs
from models.contest import Site

#: sites the upstream finds, (slug, display name, source); then made-up ones spread over the alphabet
FOUND = [("kaggle", "Kaggle", "clist"), ("toph", "toph", "clist"), ("cups", "Universal Cup", "clist"),
         ("ucup-ical", "Ural Championship", None)]
WORDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo",
         "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor",
         "Whiskey", "Xray", "Yankee", "Zulu"]
MADE_UP = [(f"{word.lower()}-{kind.lower()}", f"{word} {kind}", "clist" if index % 3 == 0 else None)
           for kind in ("Judge", "Cup") for index, word in enumerate(WORDS)]
#: a row that holds only a source's fetch health: never a site to pick
UNLISTED = "clist"


async def add_site(slug: str, name: str, source: str | None = None, listed: bool = True) -> Site:
    return await Site.create(slug=slug, name=name, url=f"https://{slug}.example.org", every_seconds=3600,
                             source=source, listed=listed)


async def fill_catalog(total: int = 60) -> list[str]:
    """Listed sites added until `total` are listed (about a third read through clist), and clist's own unlisted
    row; returns the slugs added."""
    present = set(await Site.all().values_list("slug", flat=True))
    wanted = total - len(await listed_slugs())
    added = []
    for slug, name, source in FOUND + MADE_UP:
        if len(added) == wanted:
            break
        if slug not in present:
            await add_site(slug, name, source)
            added.append(slug)
    assert len(added) == wanted, "not enough made-up sites for the catalog asked for"
    if UNLISTED not in present:
        await add_site(UNLISTED, "clist.by", listed=False)
    return added
