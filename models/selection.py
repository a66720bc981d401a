"""Which contests an account wants: its sites, keywords and duration limits, as one database query.

Keywords match loosely: a keyword and a title are both compared as title keys (models.contest.title_key: case,
spaces and punctuation left out), so "div 2" finds "Codeforces Round 999 (Div. 2)".

The bot's /upcoming, inline mode, reminders and personal calendar feeds all choose contests this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.account import Account
from models.contest import Contest, title_key

#: the sites a new account follows until it picks its own
POPULAR_SITES = ("codeforces", "atcoder", "leetcode", "codechef")


@dataclass(frozen=True, slots=True)
class ContestFilter:
    sites: tuple[str, ...] | None = None  # None: every site
    include: tuple[str, ...] = ()  # a title must contain one of these (when any), compared as title keys
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

    #: the keywords as title keys ("Div. 2" -> "div2"), worked out once (fan-out matches many contests)
    include_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    exclude_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "include_keys", keys_of(self.include))
        object.__setattr__(self, "exclude_keys", keys_of(self.exclude))

    def matches(self, site: str, title: str, duration: int) -> bool:
        """The same rule as `condition()`, for a contest already in memory (reminder fan-out)."""
        key = title_key(title)
        return (
            (self.sites is None or site in self.sites)
            and (not self.include or any(word in key for word in self.include_keys))
            and not any(word in key for word in self.exclude_keys)
            and (self.min_duration is None or duration >= self.min_duration)
            and (self.max_duration is None or duration <= self.max_duration)
        )

    def condition(self) -> Q:
        condition = Q(cancelled=False)
        if self.sites is not None:
            condition &= Q(site_id__in=list(self.sites))
        if self.include:
            condition &= Q(*(Q(title_key__contains=word) for word in self.include_keys), join_type="OR") \
                if self.include_keys else Q(id__in=[])  # no keyword with a letter or digit: no title has one
        for word in self.exclude_keys:
            condition &= ~Q(title_key__contains=word)
        if self.min_duration is not None:
            condition &= Q(duration__gte=self.min_duration)
        if self.max_duration is not None:
            condition &= Q(duration__lte=self.max_duration)
        return condition


def keys_of(keywords: Sequence[str]) -> tuple[str, ...]:
    """Keywords as title keys, leaving out any that has no letter or digit: its key is in every title, but such a
    keyword finds no title (and hides none), as when it was matched literally."""
    return tuple(key for key in map(title_key, keywords) if key)


def upcoming(selection: ContestFilter, now: datetime) -> QuerySet[Contest]:
    """Contests not started yet that match, soonest first."""
    return Contest.filter(selection.condition(), start__gt=now).order_by("start", "site_id", "key")
