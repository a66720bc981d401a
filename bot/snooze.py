"""The reminder's "again in 10 min" button: the same reminder comes back once more, N minutes later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from models.account import Account, Delivery
from models.contest import Contest
from notify.telegram import Snooze


async def snooze(callback: CallbackQuery, callback_data: Snooze, account: Account) -> None:
    """Plan the reminder again (the scheduler remakes its plan every few seconds and picks it up)."""
    contest = await Contest.get_or_none(id=callback_data.contest_id, cancelled=False)
    now = datetime.now(UTC)
    minutes = callback_data.minutes  # 1 minute to a day: the button's data is checked on arrival
    due = now + timedelta(minutes=minutes)
    if contest is None or contest.start <= due:
        await callback.answer(_("It will have started by then; good luck!"), show_alert=True)
        return
    await Delivery.get_or_create(
        account=account, contest=contest, channel="telegram", kind="snooze",
        offset_seconds=int((contest.start - due).total_seconds()), contest_start=contest.start,
        defaults={"due_at": due, "status": "planned"})
    await callback.answer(_("I will remind you again in {minutes} min.").format(minutes=minutes))


def make_router() -> Router:
    router = Router(name="snooze")
    router.callback_query.register(snooze, Snooze.filter())
    return router
