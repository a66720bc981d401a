"""/timezone [ZONE]: the chat's time zone, by city in any language the bot speaks ("Tokyo", "Москва"),
abbreviation ("MSK", "EST"), IANA name ("Europe/Minsk") or offset ("UTC+3"), or with buttons of the zones
common among people who speak the chat's language. Every time the bot shows is in this zone; the zone is
shown by its city and current offset, "Moscow (UTC+3)"."""

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
from notify.zones import common_zones, is_zone_name, zone_display, zone_of


class ZonePick(CallbackData, prefix="tz"):
    zone: str  # a zone's stored name, as on the buttons (IANA names have no ":", the callback data separator)

    @field_validator("zone")
    @classmethod
    def _a_zone_as_stored(cls, zone: str) -> str:
        if not is_zone_name(zone):
            raise ValueError("not a time zone name in its stored form")
        return zone


def now_there(zone: str, language: str, now: datetime | None = None) -> str:
    """The local time in a stored zone, DST included: '21:35, Sat 11 Oct'."""
    moment = (now or datetime.now(UTC)).astimezone(zone_of(zone))
    return format_datetime(moment, "HH:mm, EEE d MMM", locale=language)


def shown_zone(account: Account) -> str:
    """The chat's zone as the bot names it (HTML): "Moscow (UTC+3)"."""
    return escape(zone_display(account.timezone, account.language, datetime.now(UTC)), quote=False)


def zones_keyboard(account: Account) -> InlineKeyboardMarkup:
    """The zones common among people of the chat's language, two a row, the chat's own ticked."""
    now = datetime.now(UTC)
    buttons = [InlineKeyboardButton(text=("✓ " if zone == account.timezone else "")
                                    + zone_display(zone, account.language, now),
                                    callback_data=ZonePick(zone=zone).pack())
               for zone in common_zones(account.language)]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def zone_hint() -> str:
    return _("Pick one below, or send a city, an abbreviation or an offset: /timezone Tokyo, /timezone MSK, "
             "/timezone UTC+3.")


def zone_screen(account: Account) -> str:
    return "\n".join((
        _("Your time zone is {zone}; it is {now} there.").format(
            zone=shown_zone(account), now=now_there(account.timezone, account.language)),
        zone_hint(),
    ))


def zone_set_text(account: Account) -> str:
    return _("Time zone set to {zone}. It is {now} there.").format(
        zone=shown_zone(account), now=now_there(account.timezone, account.language))


async def save_zone(account: Account, zone: str) -> None:
    account.timezone = zone
    await account.save(update_fields=["timezone"])


async def timezone_command(message: Message, command: CommandObject, account: Account) -> None:
    if not (command.args or "").strip():
        await message.answer(zone_screen(account), reply_markup=zones_keyboard(account))
        return
    await set_timezone(message, command.args.strip(), account)


@admins_only
async def set_timezone(message: Message, typed: str, account: Account) -> None:
    try:
        zone = parse_zone_setting(typed)
    except SettingProblem as problem:
        refusal = (escape(problem.text(), quote=False), _("Nothing changed."), zone_hint())
        await message.answer("\n".join(refusal), reply_markup=zones_keyboard(account))
        return
    await save_zone(account, zone)
    await message.answer(zone_set_text(account))


@admins_only
async def pick_zone(callback: CallbackQuery, callback_data: ZonePick, account: Account) -> None:
    await save_zone(account, callback_data.zone)
    await edit_screen(callback, zone_set_text(account), zones_keyboard(account))
    await callback.answer(_("Time zone: {zone}").format(
        zone=zone_display(account.timezone, account.language, datetime.now(UTC))))


async def open_timezone(callback: CallbackQuery, account: Account) -> None:
    await open_screen(callback, zone_screen(account), zones_keyboard(account))
    await callback.answer()


def make_router() -> Router:
    router = Router(name="timezone")
    router.message.register(timezone_command, Command("timezone"))
    router.callback_query.register(pick_zone, ZonePick.filter())
    router.callback_query.register(open_timezone, OpenSection.filter(F.section == "timezone"))
    return router
