"""/forget: delete this chat's account and everything that belongs to it (settings, email addresses, the calendar
feed, links to the web, the sent-log), after a confirmation button, and the chat's own command menu (set by
/language). In groups only administrators may."""

from __future__ import annotations

from typing import Literal

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.commands import drop_chat_commands
from bot.permissions import admins_only
from bot.screens import edit_screen
from models.account import Account
from models.linking import forget_account


class ForgetAnswer(CallbackData, prefix="forget"):
    answer: Literal["yes", "no"]


def confirm_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Delete everything"), callback_data=ForgetAnswer(answer="yes").pack()),
        InlineKeyboardButton(text=_("Cancel"), callback_data=ForgetAnswer(answer="no").pack()),
    ]])


@admins_only
async def ask_to_forget(message: Message) -> None:
    await message.answer(_("This deletes this chat's account: its settings, email addresses, calendar feed, links to "
                           "the web and the record of reminders sent. It cannot be undone. Delete it?"),
                         reply_markup=confirm_keyboard())


@admins_only
async def answered(callback: CallbackQuery, callback_data: ForgetAnswer, account: Account) -> None:
    if callback_data.answer == "no":
        await edit_screen(callback, _("Nothing was deleted."), None)
        await callback.answer()
        return
    await forget_account(account.id)
    if isinstance(callback.message, Message):
        await drop_chat_commands(callback.bot, callback.message.chat.id)
    await edit_screen(callback, _("Deleted: I have forgotten this chat. Send /start to begin again."), None)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="forget")
    router.message.register(ask_to_forget, Command("forget"))
    router.callback_query.register(answered, ForgetAnswer.filter())
    return router
