"""Contests of one event: the divisions of a round that a site lists as separate contests starting together
("Codeforces Round 999 (Div. 1)" and "(Div. 2)", same site, same start) are one entry for people to read,
"Codeforces Round 999 (Div. 1, Div. 2)". Pure: lists show them this way, reminders are unchanged."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

#: a division named in a title: "Div. 1", "Div 2", "div.3", "Division 4"
_DIVISION = re.compile(r"\bDiv(?:ision)?\.?\s*(\d)\b", re.IGNORECASE)
#: where the divisions go in the shared title
_SLOT = "\0"


class ContestLike(Protocol):
    site_id: str
    start: datetime
    title: str


@dataclass(frozen=True, slots=True)
class Division:
    """The one division a title names, and the title with a slot where it was."""

    number: int
    name: str  # as the title writes it: "Div. 1"
    stem: str


def division_of(title: str) -> Division | None:
    """The division of a title that names exactly one ("Div. 1 + Div. 2" is a combined round, not a division)."""
    found = list(_DIVISION.finditer(title))
    if len(found) != 1:
        return None
    match = found[0]
    return Division(int(match.group(1)), match.group(0), title[:match.start()] + _SLOT + title[match.end():])


C = TypeVar("C", bound=ContestLike)


@dataclass(frozen=True, slots=True)
class Event(Generic[C]):
    """Contests shown as one entry: one contest, or the divisions of a round (ordered by division)."""

    contests: tuple[C, ...]

    @property
    def first(self) -> C:
        return self.contests[0]

    @property
    def title(self) -> str:
        """The shared title: "Codeforces Round 999 (Div. 1, Div. 2)"; a lone contest's own title."""
        if len(self.contests) == 1:
            return self.first.title
        division = division_of(self.first.title)
        names = ", ".join(dict.fromkeys(self.division_names()))
        return division.stem.replace(_SLOT, names) if division else self.first.title

    def division_names(self) -> list[str]:
        """ "Div. 1", "Div. 2" for each contest of a round; empty for a lone contest."""
        if len(self.contests) == 1:
            return []
        return [division.name for contest in self.contests if (division := division_of(contest.title))]


def group_events(contests: Sequence[C]) -> list[Event[C]]:
    """The contests as events, in the order of each event's first contest: divisions of one round (same site,
    same start, titles equal but for the one division they name) together, everything else on its own."""
    rounds: dict[tuple[str, datetime, str], list[C]] = {}
    order: list[list[C]] = []
    for contest in contests:
        division = division_of(contest.title)
        if division is None:
            order.append([contest])
            continue
        key = (contest.site_id, contest.start, division.stem.casefold())
        if key not in rounds:
            rounds[key] = []
            order.append(rounds[key])
        rounds[key].append(contest)
    return [Event(tuple(sorted(members, key=_division_number))) for members in order]


def _division_number(contest: ContestLike) -> int:
    division = division_of(contest.title)
    return division.number if division else 0
