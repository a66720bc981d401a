"""Reminder planning: who is reminded of which contest when, computed in memory from a few queries (the
accounts, each channel's addresses, the contests).

Accounts with the same filter share one match per contest, so planning costs contests x distinct filters,
not contests x accounts; the per-account rows are only made when a reminder falls due (the claim).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.account import Account, Delivery
from models.catalog import listed_sites, site_name
from models.contest import Contest
from models.selection import ContestFilter
from notify.channel import Channel, ChannelName, DeliveryKind, DeliveryStatus
from notify.messages import ContestInfo, Locale
from notify.preferences import COLUMNS, BadPreferences, Preferences, read_preferences

#: reminders are planned for contests starting within this horizon (the longest offset allowed is 7 days)
HORIZON = timedelta(days=8)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscriber:
    account_id: int
    locale: Locale
    #: where each channel reaches this account (only channels that reach it)
    addresses: Mapping[ChannelName, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """At `due`, remind `subscribers` of `contest`, `offset` seconds before its start."""

    due: datetime
    contest: ContestInfo
    offset: int
    subscribers: tuple[Subscriber, ...]


@dataclass(frozen=True, slots=True)
class Snoozed:
    """A reminder someone asked to get again later (the "again in 10 min" button): a planned sent-log row."""

    due: datetime
    delivery_id: int
    account_id: int
    contest: ContestInfo
    channel: ChannelName


@dataclass(slots=True)
class Plan:
    entries: list[PlanEntry] = field(default_factory=list)  # sorted by due moment
    subscribers: dict[int, Subscriber] = field(default_factory=dict)  # every reachable account, by id
    snoozed: list[Snoozed] = field(default_factory=list)

    def next_due(self, after: datetime) -> datetime | None:
        moments = [e.due for e in self.entries if e.due > after] + [s.due for s in self.snoozed if s.due > after]
        return min(moments, default=None)

    def snoozed_until(self, until: datetime) -> list[Snoozed]:
        return [snoozed for snoozed in self.snoozed if snoozed.due <= until]

    def due_between(self, since: datetime, until: datetime) -> list[PlanEntry]:
        return [entry for entry in self.entries if since < entry.due <= until]

    def reminds_near(self, account_id: int, contest_id: int, moment: datetime, window: timedelta) -> bool:
        """Whether a planned reminder of the contest reaches the account within `window` of `moment`."""
        return any(entry.contest.id == contest_id and abs(entry.due - moment) <= window
                   and any(subscriber.account_id == account_id for subscriber in entry.subscribers)
                   for entry in self.entries)

    @property
    def reminders(self) -> int:
        return sum(len(entry.subscribers) for entry in self.entries)


Groups = dict[int, dict[ContestFilter, list[Subscriber]]]  # offset -> filter -> subscribers


class SkippedAccounts:
    """Accounts whose stored settings cannot be planned. Each is logged once with its id and the reason (not on
    every replan), and again only when the reason changes."""

    def __init__(self) -> None:
        self._reasons: dict[int, str] = {}

    def skip(self, account_id: int, reason: str) -> None:
        if self._reasons.get(account_id) != reason:
            self._reasons[account_id] = reason
            log.warning("account %d is not planned: %s", account_id, reason, extra={"account_id": account_id})

    def planned(self, account_id: int) -> None:
        self._reasons.pop(account_id, None)


async def unpaused_accounts(columns: Iterable[str] = COLUMNS, **conditions: Any) -> list[dict[str, Any]]:
    """The planning columns of every unpaused account (that meets `conditions`) as the database holds them: JSON
    is decoded row by row later, so one broken value cannot fail the query for everyone."""
    query = Account.filter(paused=False, **conditions).values(*columns)
    return await Account._meta.db.execute_query_dict(query.sql(params_inline=True))


def selection_of(settings: Preferences) -> ContestFilter:
    """The contests an account's settings let through."""
    return ContestFilter.of_settings(settings.sites, settings.include, settings.exclude, settings.min_duration,
                                     settings.max_duration)


Reach = dict[ChannelName, dict[int, tuple[Any, ...]]]  # channel -> account -> addresses


async def reach_of(channels: Iterable[Channel]) -> Reach:
    """Every channel's addresses, by account (a query per channel)."""
    return {channel.name: await channel.reachable() for channel in channels}


def addresses_of(reach: Reach, account_id: int) -> dict[ChannelName, tuple[Any, ...]]:
    return {name: by_account[account_id] for name, by_account in reach.items() if by_account.get(account_id)}


async def load_groups(channels: Iterable[Channel], skipped: SkippedAccounts | None = None
                      ) -> tuple[Groups, dict[int, Subscriber]]:
    """Unpaused accounts that some channel reaches (by id), and grouped by reminder offset and filter. An account
    whose settings break the rules is left out (and logged)."""
    skipped = skipped or SkippedAccounts()
    reach = await reach_of(channels)
    groups: Groups = defaultdict(lambda: defaultdict(list))
    subscribers: dict[int, Subscriber] = {}
    for row in await unpaused_accounts():
        addresses = addresses_of(reach, row["id"])
        if not addresses:
            continue
        try:
            settings = read_preferences(row)
        except BadPreferences as problem:
            skipped.skip(row["id"], str(problem))
            continue
        skipped.planned(settings.account_id)
        subscriber = Subscriber(settings.account_id, Locale(settings.language, settings.timezone), addresses)
        subscribers[settings.account_id] = subscriber
        selection = selection_of(settings)
        for offset in settings.offsets:
            groups[offset][selection].append(subscriber)
    return groups, subscribers


def contest_info(contest: Contest) -> ContestInfo:
    """The contest as messages show it, with its site's display name as last listed (`load_contests` lists the
    sites on every planning, so a renamed or newly found site is named right from the next plan on)."""
    return ContestInfo(contest.id, contest.site_id, contest.key, contest.title, contest.url, contest.start,
                       contest.duration, site_name(contest.site_id))


async def load_contests(now: datetime, since: datetime) -> list[ContestInfo]:
    """Contests not cancelled that may have a reminder due after `since`: starting before the horizon."""
    await listed_sites()  # one small query: the site names `contest_info` uses
    rows = await Contest.filter(cancelled=False, start__gt=since, start__lte=now + HORIZON).order_by("start")
    return [contest_info(row) for row in rows]


def make_plan(groups: Groups, subscribers: dict[int, Subscriber], contests: list[ContestInfo],
              since: datetime) -> Plan:
    """Every reminder due after `since`, one entry per (contest, offset) with its matching subscribers."""
    entries = []
    for contest in contests:
        for offset, by_filter in groups.items():
            due = contest.start - timedelta(seconds=offset)
            if due <= since:
                continue
            matched = tuple(subscriber for selection, members in by_filter.items()
                            if selection.matches(contest.site, contest.title, contest.duration)
                            for subscriber in members)
            if matched:
                entries.append(PlanEntry(due, contest, offset, matched))
    entries.sort(key=lambda entry: (entry.due, entry.contest.start, entry.contest.id))
    return Plan(entries, subscribers)


async def load_snoozed() -> list[Snoozed]:
    rows = await Delivery.filter(kind=DeliveryKind.SNOOZE, status=DeliveryStatus.PLANNED).select_related("contest")
    return [Snoozed(row.due_at, row.id, row.account_id, contest_info(row.contest), ChannelName(row.channel))
            for row in rows if row.channel in {name.value for name in ChannelName}]


async def plan_reminders(now: datetime, since: datetime, channels: Iterable[Channel],
                         skipped: SkippedAccounts | None = None) -> Plan:
    groups, subscribers = await load_groups(channels, skipped)
    plan = make_plan(groups, subscribers, await load_contests(now, since), since)
    plan.snoozed = await load_snoozed()
    return plan
