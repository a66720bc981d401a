"""Which contests an account wants: its sites, keywords and duration limits, as one database query.

The bot's /upcoming, inline mode, reminders and personal calendar feeds all choose contests this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.account import Account
from models.contest import Contest

#: the sites a new account follows until it picks its own
POPULAR_SITES = ("codeforces", "atcoder", "leetcode", "codechef")


@dataclass(frozen=True, slots=True)
class ContestFilter:
    sites: tuple[str, ...] | None = None  # None: every site
    include: tuple[str, ...] = ()  # a title must contain one of these (when any)
    exclude: tuple[str, ...] = ()  # and none of these
    min_duration: int | None = None
    max_duration: int | None = None

    @classmethod
    def of(cls, account: Account, sites: list[str] | None = None) -> ContestFilter:
        """The account's filter; `sites`, when given, replaces its sites (e.g. `/upcoming atcoder`)."""
        return cls.of_settings(sites or account.sites, account.include_keywords, account.exclude_keywords,
                               account.min_duration, account.max_duration)

    @classmethod
    def of_settings(cls, sites: Sequence[str] | None, include: Sequence[str] | None, exclude: Sequence[str] | None,
                    min_duration: int | None, max_duration: int | None) -> ContestFilter:
        """A filter from an account's settings; no `sites` means the popular set."""
        return cls(sites=tuple(sites if sites is not None else POPULAR_SITES), include=tuple(include or ()),
                   exclude=tuple(exclude or ()), min_duration=min_duration, max_duration=max_duration)

    def matches(self, site: str, title: str, duration: int) -> bool:
        """The same rule as `condition()`, for a contest already in memory (reminder fan-out)."""
        lowered = title.lower()
        return (
            (self.sites is None or site in self.sites)
            and (not self.include or any(word.lower() in lowered for word in self.include))
            and not any(word.lower() in lowered for word in self.exclude)
            and (self.min_duration is None or duration >= self.min_duration)
            and (self.max_duration is None or duration <= self.max_duration)
        )

    def condition(self) -> Q:
        condition = Q(cancelled=False)
        if self.sites is not None:
            condition &= Q(site_id__in=list(self.sites))
        if self.include:
            condition &= Q(*(Q(title__icontains=word) for word in self.include), join_type="OR")
        for word in self.exclude:
            condition &= ~Q(title__icontains=word)
        if self.min_duration is not None:
            condition &= Q(duration__gte=self.min_duration)
        if self.max_duration is not None:
            condition &= Q(duration__lte=self.max_duration)
        return condition


def upcoming(selection: ContestFilter, now: datetime) -> QuerySet[Contest]:
    """Contests not started yet that match, soonest first."""
    return Contest.filter(selection.condition(), start__gt=now).order_by("start", "site_id", "key")
