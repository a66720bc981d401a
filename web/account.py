"""`/account`: everything about the signed-in person's account in the browser, as the bot has it: settings (the
same rules and messages as the bot: notify/preferences.py), email addresses and the digest, a Discord webhook
(checked and tested as /discord does), the personal feed address, linked
Telegram chats and sign-in identities (the last way in cannot be unlinked), a "Connect Telegram" link, and
deleting the account. `GET /api/v1/me` is the same account as JSON.

Every form carries the session's CSRF token. A change is in the database at once: the bot's `/settings` shows it
on its next message, and reminder planning picks it up within seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from aiohttp_session import get_session

from models.account import Account, DiscordWebhook, EmailAddress, OAuthIdentity, TelegramChat
from models.catalog import listed_sites, listed_slugs
from models.linking import Purpose, forget_account, new_link_token, ways_in
from notify.addresses import Asked, Mailer, Verification, ask_to_confirm, parse_address
from notify.channel import Result, Verdict
from notify.digest import DigestError, DigestSchedule, Off, account_fields, explain, parse_digest
from notify.discord import DiscordChannel, parse_webhook_url, store_webhook
from notify.formatting import day_name
from notify.i18n import N_, languages, speaking
from notify.messages import Locale
from notify.rules import (
    SettingProblem,
    check_duration_limits,
    on_both_sides,
    parse_keywords,
    parse_language,
    parse_limit,
    parse_offsets,
    parse_site_list,
    parse_zone_setting,
)
from notify.zones import COMMON_ZONES
from web.keys import I18N, PUBLIC_URL
from web.openapi import API_PREFIX
from web.rendering import page_language_of, rendered
from web.sessions import checked_form, csrf_token, sign_out, signed_in
from web.signin import SIGN_IN
from web.site_choices import site_groups

log = logging.getLogger("contestbell.web.account")

MAILER = web.AppKey("mailer", Mailer)
DISCORD = web.AppKey("discord", DiscordChannel)
#: what a form's outcome says on the next page (the session keeps it for one page)
FLASH = "flash"
FEED_PATH = "/calendar/{token}.ics"
UNITS = (("d", 86400), ("h", 3600), ("m", 60))


def add_account_routes(app: web.Application, mailer: Mailer | None, discord: DiscordChannel | None = None) -> None:
    if mailer is not None:
        app[MAILER] = mailer
    if discord is not None:
        app[DISCORD] = discord
    app.router.add_get("/account", account_page)
    app.router.add_post("/account", save_settings)
    app.router.add_post("/account/email", add_email)
    app.router.add_post("/account/email/remove", remove_email)
    app.router.add_post("/account/digest", save_digest)
    app.router.add_post("/account/discord", add_discord)
    app.router.add_post("/account/discord/remove", remove_discord)
    app.router.add_post("/account/calendar/reset", reset_feed)
    app.router.add_post("/account/unlink", unlink)
    app.router.add_post("/account/delete", delete_account)
    app.router.add_get(API_PREFIX + "/me", me)


def typed_duration(seconds: int | None) -> str:
    """Seconds as a person types them in the bot: 5400 -> "1h30m"; None -> ""."""
    if not seconds:
        return ""
    parts = []
    for unit, size in UNITS:
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


async def the_account(request: web.Request) -> Account:
    """The signed-in account; not signed in: to the sign-in page, and back here afterwards."""
    account = await signed_in(request)
    if account is None:
        raise web.HTTPSeeOther("/login?next=/account")
    return account


async def flash(request: web.Request, message: str, **values: str) -> None:
    (await get_session(request))[FLASH] = [message, values]


async def flash_digest_saved(request: web.Request, schedule: DigestSchedule) -> None:
    """When the digest now comes, in words of the page's language (not the command's "weekly thu 19:45")."""
    if schedule.weekday is None:
        await flash(request, N_("Saved: the digest comes every day at {time}."), time=schedule.time)
        return
    await flash(request, N_("Saved: the digest comes every week on {weekday} at {time}."), time=schedule.time,
                weekday=day_name(schedule.weekday, page_language_of(request)))


async def taken_flash(request: web.Request) -> tuple[str, dict[str, str]] | None:
    session = await get_session(request)
    kept = session.pop(FLASH, None)
    return (kept[0], kept[1]) if isinstance(kept, list) and len(kept) == 2 else None


# the page


@dataclass(slots=True)
class Form:
    """The settings form as shown: the values (as typed, when the form came back with problems) and the problems
    by field."""

    values: dict[str, Any]
    problems: dict[str, str]


def form_of(account: Account) -> Form:
    return Form({
        "timezone": account.timezone, "language": account.language,
        "sites": list(account.sites) if account.sites is not None else [],
        "reminders": " ".join(typed_duration(offset) for offset in account.reminder_offsets or []) or "off",
        "include": ", ".join(account.include_keywords or []), "exclude": ", ".join(account.exclude_keywords or []),
        "min_duration": typed_duration(account.min_duration), "max_duration": typed_duration(account.max_duration),
        "paused": account.paused,
    }, {})


async def account_page(request: web.Request, form: Form | None = None, status: int = 200) -> web.Response:
    account = await the_account(request)
    return await rendered(request, "account.html", {
        **await account_context(request, account),
        "form": form or form_of(account),
        "flash": await taken_flash(request),
    }, status=status)


async def account_context(request: web.Request, account: Account) -> dict[str, Any]:
    chats = await TelegramChat.filter(account_id=account.id).order_by("id")
    identities = await OAuthIdentity.filter(account_id=account.id).order_by("id")
    return {
        "account": account,
        "csrf": await csrf_token(request),
        "site_groups": site_groups(await listed_sites()),
        "languages_offered": languages(request.app[I18N]),
        "common_zones": COMMON_ZONES,
        "emails": await EmailAddress.filter(account_id=account.id).order_by("id"),
        "email_on": MAILER in request.app,
        "digest": DigestSchedule.from_account(account),
        "weekdays": [day_name(day, page_language_of(request)) for day in range(7)],
        "discord": await DiscordWebhook.get_or_none(account_id=account.id),
        "feed_url": request.app[PUBLIC_URL] + FEED_PATH.format(token=await account.calendar_feed_token()),
        "chats": chats,
        "identities": identities,
        "ways_in": len([c for c in chats if c.chat_type == "private"]) + len(identities),
        "connect_telegram": await telegram_link(request, account),
    }


async def telegram_link(request: web.Request, account: Account) -> str | None:
    """https://t.me/<bot>?start=<token>: opening it in Telegram connects that chat to this account (once, within
    10 minutes); None without a bot."""
    telegram = request.app[SIGN_IN].telegram
    username = await telegram.username() if telegram is not None else None
    if username is None:
        return None
    token = await new_link_token(account.id, Purpose.TELEGRAM, datetime.now(UTC))
    return f"https://t.me/{username}?start={token}"


# settings


async def save_settings(request: web.Request) -> web.Response:
    account = await the_account(request)
    form = await checked_form(request)
    typed = {name: form.get(name, "") for name in ("timezone", "language", "reminders", "include", "exclude",
                                                    "min_duration", "max_duration")}
    typed["sites"] = form.getall("sites", [])
    typed["paused"] = form.get("paused") == "on"
    known_sites = await listed_slugs()
    with speaking(request.app[I18N], page_language_of(request)):  # the problems are told in the page's language
        values, problems = read_settings(typed, known_sites, languages(request.app[I18N]))
    if problems:
        return await account_page(request, Form(typed, problems), status=400)
    for name, value in values.items():
        setattr(account, name, value)
    await account.save(update_fields=list(values))
    await flash(request, N_("Saved. The bot and your reminders follow the new settings."))
    raise web.HTTPSeeOther("/account")


def read_settings(typed: dict[str, Any], known_sites: list[str], spoken: list[str]
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field through the rule the bot applies to it: the account's new values, or a message per field."""
    values: dict[str, Any] = {"paused": typed["paused"]}
    problems: dict[str, str] = {}
    readers: dict[str, tuple[str, Callable[[], Any]]] = {
        "timezone": ("timezone", lambda: parse_zone_setting(typed["timezone"])),
        "language": ("language", lambda: parse_language(typed["language"], spoken)),
        "sites": ("sites", lambda: parse_site_list(typed["sites"], known_sites)),
        "reminders": ("reminder_offsets", lambda: parse_offsets(typed["reminders"])),
        "include": ("include_keywords", lambda: list(parse_keywords(typed["include"]))),
        "exclude": ("exclude_keywords", lambda: list(parse_keywords(typed["exclude"]))),
        "min_duration": ("min_duration", lambda: parse_limit(typed["min_duration"])),
        "max_duration": ("max_duration", lambda: parse_limit(typed["max_duration"])),
    }
    for field, (column, read) in readers.items():
        try:
            values[column] = read()
        except SettingProblem as problem:
            problems[field] = problem.text()
    both = on_both_sides(values.get("include_keywords", ()), values.get("exclude_keywords", ()))
    if both:  # the bot moves a keyword from one side to the other; a form says both at once
        problems["exclude"] = _("“{keyword}” is among the keywords to show and to hide: keep it on one side.").format(
            keyword=both[0])
    if not {"min_duration", "max_duration"} & problems.keys():
        try:
            check_duration_limits(values["min_duration"], values["max_duration"])
        except SettingProblem as problem:
            problems["max_duration"] = problem.text()
    return values, problems


# email addresses


async def add_email(request: web.Request) -> web.Response:
    account = await the_account(request)
    form = await checked_form(request)
    mailer = request.app.get(MAILER)
    address = parse_address(form.get("address", ""))
    if mailer is None:
        await flash(request, N_("Email is not set up on this server, so no emails are sent."))
    elif address is None:
        await flash(request, N_("That does not look like an email address: {typed}."),
                    typed=form.get("address", "")[:100])
    else:
        asked = await ask_to_confirm(mailer, account.id, account.language, address, datetime.now(UTC),
                                     only_one=False)
        await flash(request, asked_message(asked), address=address)
    raise web.HTTPSeeOther("/account#emails")


def asked_message(asked: Verification) -> str:
    if asked.outcome is Asked.TOO_MANY:
        return N_("{address} has had enough confirmation emails for today; try again tomorrow.")
    if asked.outcome is Asked.TAKEN:
        return N_("{address} belongs to another account already.")
    if asked.outcome is Asked.NOT_SENT:
        return N_("The email to {address} could not be sent just now; try again later.")
    return N_("A confirmation link went to {address}: open it, and reminders will come there too.")


async def remove_email(request: web.Request) -> web.Response:
    account = await the_account(request)
    form = await checked_form(request)
    await EmailAddress.filter(account_id=account.id, id=int_field(form.get("id"))).delete()
    await flash(request, N_("The address is removed: no more emails go there."))
    raise web.HTTPSeeOther("/account#emails")


def int_field(value: Any) -> int:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 18:
        raise web.HTTPBadRequest(text="not a number\n")
    return int(value)


# the digest and Discord


async def save_digest(request: web.Request) -> web.Response:
    """The form's three fields become what the bot's /digest takes, read by the same rule."""
    account = await the_account(request)
    form = await checked_form(request)
    frequency, weekday, time = (str(form.get(name, ""))[:16] for name in ("frequency", "weekday", "time"))
    typed = "off" if frequency == "off" else f"{frequency} {weekday if frequency == 'weekly' else ''} {time}"
    setting = parse_digest(typed)
    if isinstance(setting, DigestError):
        with speaking(request.app[I18N], page_language_of(request)):
            await flash(request, explain(setting))
        raise web.HTTPSeeOther("/account#digest")
    await Account.filter(id=account.id).update(**account_fields(setting))
    if isinstance(setting, Off):
        await flash(request, N_("Digest off: no more digest emails. Reminders are unchanged."))
    else:
        await EmailAddress.filter(account_id=account.id).update(digest_unsubscribed=False)
        await flash_digest_saved(request, setting)
    raise web.HTTPSeeOther("/account#digest")


async def add_discord(request: web.Request) -> web.Response:
    account = await the_account(request)
    form = await checked_form(request)
    address = parse_webhook_url(str(form.get("url", "")))
    discord = request.app.get(DISCORD)
    if address is None:
        await flash(request, N_("That is not a Discord webhook address. Nothing changed."))
    elif discord is None:
        await flash(request, N_("Discord is not available on this server right now. Nothing changed."))
    else:
        result = await discord.send_test(address, Locale(account.language, account.timezone))
        if result.sent:
            await store_webhook(account.id, address)
        await flash(request, discord_message(result))
    raise web.HTTPSeeOther("/account#discord")


def discord_message(result: Result) -> str:
    if result.verdict is Verdict.GONE:
        return N_("Discord does not know this webhook (deleted, or the URL is incomplete). Nothing changed.")
    if not result.sent:
        return N_("Discord did not take the test message, so nothing changed. Try again in a while.")
    return N_("Connected: a test message went to the Discord channel, and reminders will go there too.")


async def remove_discord(request: web.Request) -> web.Response:
    account = await the_account(request)
    await checked_form(request)
    await DiscordWebhook.filter(account_id=account.id).delete()
    await flash(request, N_("Discord removed: reminders no longer go there."))
    raise web.HTTPSeeOther("/account#discord")


# feed, unlinking, deleting


async def reset_feed(request: web.Request) -> web.Response:
    account = await the_account(request)
    await checked_form(request)
    await account.reset_calendar_token()
    await flash(request, N_("New feed address made: the old one no longer works."))
    raise web.HTTPSeeOther("/account#calendar")


async def unlink(request: web.Request) -> web.Response:
    """Detach a chat or an identity; never the last way in (the account would be out of reach)."""
    account = await the_account(request)
    form = await checked_form(request)
    kind, row_id = form.get("kind"), int_field(form.get("id"))
    model = {"telegram": TelegramChat, "identity": OAuthIdentity}.get(kind)
    if model is None:
        raise web.HTTPBadRequest(text="unknown kind\n")
    row = await model.get_or_none(id=row_id, account_id=account.id)
    if row is None:
        raise web.HTTPSeeOther("/account#links")
    counts = not (model is TelegramChat and row.chat_type != "private")
    if counts and await ways_in(account.id) <= 1:
        await flash(request, N_("This is the last way into your account, so it stays. Add another first, or "
                                "delete the account."))
        raise web.HTTPSeeOther("/account#links")
    await reassign_or_delete(row)
    await flash(request, N_("Unlinked."))
    raise web.HTTPSeeOther("/account#links")


async def reassign_or_delete(row: TelegramChat | OAuthIdentity) -> None:
    """An identity is dropped; a chat gets an account of its own again (with this account's settings)."""
    if isinstance(row, OAuthIdentity):
        await row.delete()
        return
    owner = await Account.get(id=row.account_id)
    copy = await Account.create(**{name: getattr(owner, name) for name in COPIED_SETTINGS})
    await TelegramChat.filter(id=row.id).update(account_id=copy.id)


COPIED_SETTINGS = ("kind", "timezone", "language", "sites", "include_keywords", "exclude_keywords", "min_duration",
                   "max_duration", "reminder_offsets", "paused")


async def delete_account(request: web.Request) -> web.Response:
    account = await the_account(request)
    form = await checked_form(request)
    if form.get("confirm") != "yes":
        await flash(request, N_("Tick the box to confirm that the account should be deleted."))
        raise web.HTTPSeeOther("/account#delete")
    await forget_account(account.id)
    await sign_out(request)
    log.info("account %d deleted from the web", account.id)
    raise web.HTTPSeeOther("/?deleted=1")


# GET /api/v1/me


async def me(request: web.Request) -> web.Response:
    account = await signed_in(request)
    if account is None:
        return web.json_response({"error": {"parameter": None, "message": "not signed in"}}, status=401,
                                 headers={"Cache-Control": "no-store"})
    return web.json_response(await account_json(request, account), headers={"Cache-Control": "no-store"})


async def account_json(request: web.Request, account: Account) -> dict[str, Any]:
    chats = await TelegramChat.filter(account_id=account.id).order_by("id")
    emails = await EmailAddress.filter(account_id=account.id).order_by("id")
    identities = await OAuthIdentity.filter(account_id=account.id).order_by("id")
    return {
        "id": account.id, "timezone": account.timezone, "language": account.language,
        "sites": account.sites, "reminders": list(account.reminder_offsets or []),
        "include": list(account.include_keywords or []), "exclude": list(account.exclude_keywords or []),
        "min_duration": account.min_duration, "max_duration": account.max_duration, "paused": account.paused,
        "telegram": [{"chat_id": c.chat_id, "type": c.chat_type, "title": c.title} for c in chats],
        "emails": [{"address": e.address, "verified": e.verified_at is not None} for e in emails],
        "identities": [{"provider": i.provider, "subject": i.subject, "email": i.email} for i in identities],
        "calendar_url": request.app[PUBLIC_URL] + FEED_PATH.format(token=await account.calendar_feed_token()),
        "digest": str(DigestSchedule.from_account(account) or "off"),
        "discord": await DiscordWebhook.filter(account_id=account.id).exists(),
    }

