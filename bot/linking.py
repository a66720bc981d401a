"""One account, many ways in, from the bot's side.

- `/start TOKEN` (the "Connect Telegram" link of the web account page, https://t.me/<bot>?start=TOKEN) in a
  private chat connects the chat to that account: the chat's own account and the web's become one (the older
  one's settings are kept).
- `/link` in a private chat answers with a one-time sign-in address for the web, for people without any sign-in
  provider: it works once, for 10 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from models.account import Account, TelegramChat
from models.linking import LINK_LIFETIME, Purpose, looks_like_link_token, merge_accounts, new_link_token, use_link_token
from notify.i18n import ngettext

LINK_PATH = "/link/{token}"


def private_only_text() -> str:
    return _("For your safety this works only in a private chat with me.")


async def connect_chat(message: Message, command: CommandObject, tg_chat: TelegramChat) -> None:
    if message.chat.type != "private":
        await message.answer(private_only_text())
        return
    account_id = await use_link_token(command.args or "", Purpose.TELEGRAM, datetime.now(UTC))
    if account_id is None:
        await message.answer(_("This link is not valid any more: it works once, for 10 minutes. Open “Connect "
                               "Telegram” on your account page again."))
        return
    await merge_accounts(account_id, tg_chat.account_id)
    await message.answer(_("This chat is now connected to your web account: the same settings, reminders and "
                           "calendar everywhere."))


async def web_link(message: Message, account: Account, base_url: str | None = None) -> None:
    if message.chat.type != "private":
        await message.answer(private_only_text())
        return
    if base_url is None:
        await message.answer(_("The web site is not available on this server."))
        return
    token = await new_link_token(account.id, Purpose.WEB, datetime.now(UTC))
    address = base_url.rstrip("/") + LINK_PATH.format(token=token)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    await message.answer(ngettext(
        "Open this address to sign in on the web with this chat's account. It works once, for {minutes} minute; "
        "do not share it:\n{address}",
        "Open this address to sign in on the web with this chat's account. It works once, for {minutes} minutes; "
        "do not share it:\n{address}", minutes).format(minutes=minutes, address=escape(address)))


def make_router() -> Router:
    """Include it before the /start router: a link token is not an ordinary start."""
    router = Router(name="linking")
    router.message.register(connect_chat, CommandStart(deep_link=True, magic=F.args.func(looks_like_link_token)))
    router.message.register(web_link, Command("link"))
    return router
