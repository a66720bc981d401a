"""The reminder's second button: "again in 10 min" (the same reminder once more, N minutes later) or, where that
would land after the start, "remind me at the start".

A press plans a snoozed sent-log row that the scheduler picks up at its next plan (every few seconds). A press that
cannot work any more (the button is old: the moment would be at or after the start) says so and plans nothing; one
that lands within two minutes of a snooze already planned for the contest plans nothing new either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from models.account import Account, Delivery
from models.contest import Contest
from notify.channel import ChannelName, DeliveryKind, DeliveryStatus
from notify.telegram import RemindAtStart, Snooze

#: two reminders of one contest this close together are one too many (scheduler/dispatch.py drops the snooze)
NEAR = timedelta(minutes=2)


async def snooze(callback: CallbackQuery, callback_data: Snooze, account: Account) -> None:
    """Plan the reminder again, `minutes` from now (1 minute to a day: the button's data is checked on arrival)."""
    contest = await Contest.get_or_none(id=callback_data.contest_id, cancelled=False)
    minutes = callback_data.minutes
    due = datetime.now(UTC) + timedelta(minutes=minutes)
    if contest is None or contest.start <= due:
        await callback.answer(_("It will have started by then; good luck!"), show_alert=True)
        return
    await plan_again(account, contest, due)
    await callback.answer(_("I will remind you again in {minutes} min.").format(minutes=minutes))


async def remind_at_start(callback: CallbackQuery, callback_data: RemindAtStart, account: Account) -> None:
    """Plan a reminder at the contest's start."""
    contest = await Contest.get_or_none(id=callback_data.contest_id, cancelled=False)
    if contest is None or contest.start <= datetime.now(UTC):
        await callback.answer(_("It has already started; good luck!"), show_alert=True)
        return
    await plan_again(account, contest, contest.start)
    await callback.answer(_("I will remind you when it starts."))


async def plan_again(account: Account, contest: Contest, due: datetime) -> None:
    """A planned snooze row due at `due` (its offset says how long before the start), unless one is planned for
    about the same moment already (the button pressed twice, or on two messages)."""
    if await Delivery.filter(account=account, contest=contest, channel=ChannelName.TELEGRAM, kind=DeliveryKind.SNOOZE,
                             status=DeliveryStatus.PLANNED, due_at__gte=due - NEAR, due_at__lte=due + NEAR).exists():
        return
    await Delivery.get_or_create(
        account=account, contest=contest, channel=ChannelName.TELEGRAM, kind=DeliveryKind.SNOOZE,
        offset_seconds=int((contest.start - due).total_seconds()), contest_start=contest.start,
        defaults={"due_at": due, "status": DeliveryStatus.PLANNED})


def make_router() -> Router:
    router = Router(name="snooze")
    router.callback_query.register(snooze, Snooze.filter())
    router.callback_query.register(remind_at_start, RemindAtStart.filter())
    return router
