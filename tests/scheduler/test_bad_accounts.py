"""One account's bad settings never stop reminders for the others (issue 9, item 1): planning skips that account
and logs it once with its id; a restarted `contestbell run` starts and reminds everyone else."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from models.account import Account, TelegramChat
from models.contest import Contest
from scheduler.plan import SkippedAccounts, plan_reminders
from tests.bot.run import run_with_bot
from tests.channels import planning_channels
from tests.conftest import TEST_DB

NOW = datetime.now(UTC).replace(microsecond=0)
GOOD_CHAT = 4242

#: stored settings that no check of the bot lets through, each with the setting it breaks
BAD_ROWS = [
    ({"reminder_offsets": [10**20]}, "reminder_offsets"),  # the forged button press of the issue
    ({"reminder_offsets": [-5]}, "reminder_offsets"),
    ({"reminder_offsets": [1]}, "reminder_offsets"),
    ({"reminder_offsets": [3600.5]}, "reminder_offsets"),
    ({"reminder_offsets": [True]}, "reminder_offsets"),
    ({"reminder_offsets": {"1h": 3600}}, "reminder_offsets"),
    ({"reminder_offsets": [60, 120, 180, 240, 300, 360]}, "reminder_offsets"),
    ({"timezone": "Mars/Olympus"}, "time zone"),
    ({"timezone": "UTC+99:00"}, "time zone"),
    ({"include_keywords": [1, 2]}, "include_keywords"),
    ({"exclude_keywords": ["div\x07"]}, "exclude_keywords"),
    ({"sites": {"codeforces": True}}, "sites"),
    ({"min_duration": 0}, "min_duration"),
    ({"max_duration": 10**8}, "max_duration"),
]


async def person(chat_id: int, **settings) -> Account:
    account = await Account.create(sites=["codeforces"], **settings)
    await TelegramChat.create(chat_id=chat_id, account=account, chat_type="private")
    return account


async def contest(start: datetime) -> Contest:
    return await Contest.create(site_id="codeforces", key=str(int(start.timestamp())), title="Codeforces Round",
                                url="https://codeforces.com/contest/1", start=start, end=start + timedelta(hours=2),
                                duration=7200)


async def spoil(account: Account, **columns) -> None:
    """Write raw values past the model (as an older version, a hand edit or a forged request might have)."""
    await Account.filter(id=account.id).update(**columns)


async def test_each_bad_row_skips_only_its_account_and_is_logged_once(db, caplog):
    good = await person(1, reminder_offsets=[3600])
    bad = {}
    for number, (columns, _what) in enumerate(BAD_ROWS, start=2):
        account = await person(number)
        await spoil(account, **columns)
        bad[account.id] = columns
    await contest(NOW + timedelta(days=2))
    skipped = SkippedAccounts()
    with caplog.at_level(logging.WARNING, logger="scheduler.plan"):
        plan = await plan_reminders(NOW, NOW, planning_channels(), skipped)
        again = await plan_reminders(NOW, NOW, planning_channels(), skipped)
    for planned in (plan, again):
        assert {s.account_id for e in planned.entries for s in e.subscribers} == {good.id}
        assert set(planned.subscribers) == {good.id}
    warnings = [r.getMessage() for r in caplog.records if r.name == "scheduler.plan"]
    assert len(warnings) == len(BAD_ROWS), warnings  # once each, not on every replan
    for (account_id, _columns), (_row, what) in zip(bad.items(), BAD_ROWS, strict=True):
        [line] = [w for w in warnings if w.startswith(f"account {account_id} ")]
        assert what in line


@pytest.mark.skipif(TEST_DB != "sqlite", reason="PostgreSQL's jsonb column cannot hold broken JSON at all")
async def test_broken_json_skips_only_its_account(db, caplog):
    good = await person(1, reminder_offsets=[3600])
    broken = await person(2)
    await Account._meta.db.execute_query("UPDATE account SET reminder_offsets = '[3600,' WHERE id = ?", [broken.id])
    await contest(NOW + timedelta(days=2))
    with caplog.at_level(logging.WARNING, logger="scheduler.plan"):
        plan = await plan_reminders(NOW, NOW, planning_channels())
    assert set(plan.subscribers) == {good.id}
    assert f"account {broken.id} is not planned: reminder_offsets is not JSON" in caplog.text


async def test_a_fixed_account_is_planned_again(db):
    account = await person(1)
    await spoil(account, timezone="Nowhere/Land")
    skipped = SkippedAccounts()
    assert not (await plan_reminders(NOW, NOW, planning_channels(), skipped)).subscribers
    await spoil(account, timezone="Europe/Berlin")
    assert set((await plan_reminders(NOW, NOW, planning_channels(), skipped)).subscribers) == {account.id}


async def test_run_starts_and_reminds_the_others_despite_a_bad_account(db, tmp_path):
    """The issue's report: after the forged press, every replan raised and a restarted `contestbell run` exited 1."""
    forged = await person(1)
    await spoil(forged, reminder_offsets=[99999999999999999999])
    await person(GOOD_CHAT, reminder_offsets=[3600])
    await contest(datetime.now(UTC) + timedelta(hours=1, seconds=8))
    async with run_with_bot(db, tmp_path / "run.log") as (fake, _port):
        [reminder] = await fake.wait_for("sendMessage", chat_id=GOOD_CHAT, timeout=30)
    assert "Codeforces Round" in reminder.text
    assert not fake.sent("sendMessage", chat_id=1)
    log = (tmp_path / "run.log").read_text()
    assert log.count(f"account {forged.id} is not planned: reminder_offsets") == 1, log
    assert "Traceback" not in log
