"""Reminder planning: who is reminded of what when, from the accounts' filters and offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.account import Account, TelegramChat
from models.contest import Contest
from models.db import count_queries
from scheduler.plan import plan_reminders
from tests.channels import planning_channels

NOW = datetime.now(UTC).replace(microsecond=0)


async def person(chat_id: int, **settings) -> Account:
    account = await Account.create(sites=settings.pop("sites", ["codeforces", "atcoder"]), **settings)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    return account


async def contest(key: str, start: datetime, site: str = "codeforces", title: str | None = None,
                  duration: int = 7200, **extra) -> Contest:
    return await Contest.create(site_id=site, key=key, title=title or f"Codeforces Round {key} (Div. 2)",
                                url=f"https://codeforces.com/contest/{key}", start=start,
                                end=start + timedelta(seconds=duration), duration=duration, **extra)


async def test_plan_follows_offsets_sites_keywords_durations_and_pauses(db):
    everyone = await person(1)
    no_kotlin = await person(2, exclude_keywords=["kotlin"], reminder_offsets=[600])
    short_only = await person(3, max_duration=3 * 3600, reminder_offsets=[3600])
    await person(4, paused=True)
    silent = await person(5, reminder_offsets=[])
    atcoder_fan = await person(6, sites=["atcoder"])
    blocked = await person(7)
    await TelegramChat.filter(chat_id=7).update(active=False)
    round_ = await contest("2000", NOW + timedelta(days=2))
    kotlin = await contest("2001", NOW + timedelta(hours=5), title="Kotlin Heroes: Episode 12")
    marathon = await contest("2002", NOW + timedelta(hours=30), duration=7 * 86400, title="Marathon")
    await contest("2003", NOW + timedelta(days=3), cancelled=True)
    await contest("2004", NOW + timedelta(days=20))  # beyond the planning horizon

    with count_queries() as queries:
        plan = await plan_reminders(NOW, NOW, planning_channels())
    assert queries.count == 6  # chats, email addresses, accounts, site names, contests, snoozed reminders

    due = {(e.contest.id, e.offset): {s.account_id for s in e.subscribers} for e in plan.entries}
    assert due[(round_.id, 86400)] == {everyone.id}
    assert due[(round_.id, 3600)] == {everyone.id, short_only.id}
    assert due[(round_.id, 600)] == {no_kotlin.id}
    assert due[(kotlin.id, 3600)] == {everyone.id, short_only.id}
    assert (kotlin.id, 600) not in due and (kotlin.id, 86400) not in due  # 1 day before is in the past
    assert due[(marathon.id, 86400)] == {everyone.id}
    assert due[(marathon.id, 600)] == {no_kotlin.id}
    assert (marathon.id, 3600) in due and short_only.id not in due[(marathon.id, 3600)]
    assert all(silent.id not in ids and atcoder_fan.id not in ids and blocked.id not in ids for ids in due.values())
    assert [e.due for e in plan.entries] == sorted(e.due for e in plan.entries)
    assert plan.next_due(NOW) == kotlin.start - timedelta(hours=1)


async def test_accounts_sharing_a_filter_are_matched_once(db):
    for chat_id in range(1, 41):
        await person(chat_id)
    await contest("2000", NOW + timedelta(days=2))
    plan = await plan_reminders(NOW, NOW, planning_channels())
    assert [len(e.subscribers) for e in plan.entries] == [40, 40]
    assert plan.reminders == 80
