"""/discord WEBHOOK_URL: reminders and notices of this chat go to a Discord channel as well, through a webhook
made in that channel's settings (Integrations → Webhooks → Copy Webhook URL). The address is checked (only
Discord's own webhook URLs) and a test message is sent before anything is stored. /discord shows the state;
/discord off removes it.

The process gives the bot the Discord channel (notify/discord.py) as dispatcher data `discord`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.permissions import admins_only
from bot.screens import OpenSection, open_screen
from models.account import Account, DiscordWebhook
from notify.channel import Verdict
from notify.discord import DiscordChannel, parse_webhook_url, store_webhook
from notify.messages import Locale

OFF_WORDS = {"off", "remove", "delete"}


def how_to_text() -> str:
    return _("In Discord: channel settings → Integrations → Webhooks → New Webhook → Copy Webhook URL, then send "
             "/discord followed by that URL.")


async def state_text(account: Account) -> str:
    row = await DiscordWebhook.get_or_none(account_id=account.id)
    if row is None:
        return _("No Discord channel yet.") + "\n" + how_to_text()
    return _("Reminders also go to a Discord channel (webhook {id}). /discord off stops that.").format(
        id=row.webhook_id)


async def discord_summary(account: Account) -> str:
    """The line of /settings: "Discord: on" or "Discord: off"."""
    if await DiscordWebhook.exists(account_id=account.id):
        return _("Discord: on")
    return _("Discord: off")


async def discord_command(message: Message, command: CommandObject, account: Account,
                          discord: DiscordChannel | None = None) -> None:
    typed = (command.args or "").strip()
    if not typed:
        await message.answer(await state_text(account))
    elif typed.lower() in OFF_WORDS:
        await remove_webhook(message, account)
    else:
        await add_webhook(message, typed, account, discord)


@admins_only
async def remove_webhook(message: Message, account: Account) -> None:
    removed = await DiscordWebhook.filter(account_id=account.id).delete()
    await message.answer(_("Discord removed: reminders no longer go there.") if removed else
                         _("No Discord channel was set, so nothing changed."))


@admins_only
async def add_webhook(message: Message, typed: str, account: Account, discord: DiscordChannel | None) -> None:
    address = parse_webhook_url(typed)
    if address is None:
        await message.answer(_("That is not a Discord webhook address. Nothing changed.") + "\n" + how_to_text())
        return
    if discord is None:
        await message.answer(_("Discord is not available on this server right now. Nothing changed."))
        return
    result = await discord.send_test(address, Locale(account.language, account.timezone))
    if result.verdict is Verdict.GONE:
        await message.answer(_("Discord does not know this webhook (deleted, or the URL is incomplete). "
                               "Nothing changed."))
    elif not result.sent:
        await message.answer(_("Discord did not take the test message, so nothing changed. Try again in a "
                               "while."))
    else:
        await store_webhook(account.id, address)
        await message.answer(_("Connected: a test message went to the Discord channel, and reminders will go "
                               "there too. /discord off stops that."))


async def open_discord(callback: CallbackQuery, account: Account) -> None:
    await open_screen(callback, await state_text(account), None)
    await callback.answer()


def make_router() -> Router:
    router = Router(name="discord")
    router.message.register(discord_command, Command("discord"))
    router.callback_query.register(open_discord, OpenSection.filter(F.section == "discord"))
    return router
