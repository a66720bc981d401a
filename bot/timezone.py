"""/timezone [ZONE]: the chat's time zone, by IANA name ("Europe/Minsk"), city or offset ("UTC+3"), or with
buttons of common zones. Every time the bot shows is in this zone."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_datetime
from pydantic import field_validator

from bot.permissions import admins_only
from bot.screens import OpenSection, edit_screen, open_screen
from models.account import Account
from notify.rules import SettingProblem, parse_zone_setting
from notify.zones import COMMON_ZONES, parse_zone, zone_of


class ZonePick(CallbackData, prefix="tz"):
    zone: str  # one of COMMON_ZONES (IANA names have no ":", the callback data separator)

    @field_validator("zone")
    @classmethod
    def _a_zone_as_stored(cls, zone: str) -> str:
        if parse_zone(zone) != zone:
            raise ValueError("not a time zone name in its stored form")
        return zone


def now_there(zone: str, language: str, now: datetime | None = None) -> str:
    """The local time in a stored zone, DST included: '21:35, Sat 11 Oct'."""
    moment = (now or datetime.now(UTC)).astimezone(zone_of(zone))
    return format_datetime(moment, "HH:mm, EEE d MMM", locale=language)


def zones_keyboard(current: str) -> InlineKeyboardMarkup:
    """The common zones, two a row, the chat's own ticked."""
    buttons = [InlineKeyboardButton(text=("✓ " if zone == current else "") + zone,
                                    callback_data=ZonePick(zone=zone).pack()) for zone in COMMON_ZONES]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def zone_hint() -> str:
    return _("Pick one below, or send its name or offset: /timezone Europe/Berlin, /timezone UTC+3.")


def zone_screen(account: Account) -> str:
    return "\n".join((
        _("Your time zone is {zone}; it is {now} there.").format(
            zone=account.timezone, now=now_there(account.timezone, account.language)),
        zone_hint(),
    ))


def zone_set_text(account: Account) -> str:
    return _("Time zone set to {zone}. It is {now} there.").format(
        zone=account.timezone, now=now_there(account.timezone, account.language))


async def save_zone(account: Account, zone: str) -> None:
    account.timezone = zone
    await account.save(update_fields=["timezone"])


async def timezone_command(message: Message, command: CommandObject, account: Account) -> None:
    if not (command.args or "").strip():
        await message.answer(zone_screen(account), reply_markup=zones_keyboard(account.timezone))
        return
    await set_timezone(message, command.args.strip(), account)


@admins_only
async def set_timezone(message: Message, typed: str, account: Account) -> None:
    try:
        zone = parse_zone_setting(typed)
    except SettingProblem as problem:
        refusal = (escape(problem.text(), quote=False), _("Nothing changed."), zone_hint())
        await message.answer("\n".join(refusal), reply_markup=zones_keyboard(account.timezone))
        return
    await save_zone(account, zone)
    await message.answer(zone_set_text(account))


@admins_only
async def pick_zone(callback: CallbackQuery, callback_data: ZonePick, account: Account) -> None:
    zone = callback_data.zone
    await save_zone(account, zone)
    await edit_screen(callback, zone_set_text(account), zones_keyboard(zone))
    await callback.answer(_("Time zone: {zone}").format(zone=zone))


async def open_timezone(callback: CallbackQuery, account: Account) -> None:
    await open_screen(callback, zone_screen(account), zones_keyboard(account.timezone))
    await callback.answer()


def make_router() -> Router:
    router = Router(name="timezone")
    router.message.register(timezone_command, Command("timezone"))
    router.callback_query.register(pick_zone, ZonePick.filter())
    router.callback_query.register(open_timezone, OpenSection.filter(F.section == "timezone"))
    return router
