"""The links in emails: confirming an address, and unsubscribing from it in one click (RFC 8058).

A digest has a one-click link of its own that stops digests only (reminders by email keep coming).

All work without logging in or cookies: the unguessable token in the link is the proof, and each link has its
own (an unsubscribe link never confirms). A GET or HEAD never changes anything (mail scanners open links); the
pages' buttons, and mail clients' one-click unsubscribe, POST to the same address. A verification link works for
48 hours, and never subscribes an address that unsubscribed. A token not shaped like ours is an unknown link
without asking the database. Pages speak the account's language; everything shown is escaped.

Once an address is confirmed, the page links back to the bot (https://t.me/<its name>; the site when the name is
unknown) and the bot says so in the account's Telegram chats, through the rate-limited sender the process was
given. Telegram is told in the background: the page never waits for it, and a failure is one log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiohttp import web

from models.account import EmailAddress, TelegramChat
from notify.digest import DIGEST_UNSUBSCRIBE_PATH
from notify.email import ONE_CLICK, UNSUBSCRIBE_PATH, VERIFY_LINK_LIFETIME, VERIFY_PATH
from notify.i18n import speaking
from notify.telegram import Outcome, TelegramSender
from web.keys import I18N, PUBLIC_URL
from web.language import browser_language
from web.signin import SIGN_IN

log = logging.getLogger("contestbell.web.email")

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
STYLE = (":root{color-scheme:light dark}"
         "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
         "button{font-size:1rem;padding:.5rem 1.25rem}"
         ".next{display:inline-block;padding:.6rem 1.4rem;border-radius:.5rem;background:#1d4ed8;color:#fff;"
         "font-weight:600;text-decoration:none}")
#: what Telegram allows in a username (5 to 32 letters, digits, underscores); anything else never becomes a link
BOT_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
#: how long a stopping web process waits for the chats still being told of a confirmation (seconds)
TELLING_GRACE = 5.0
TELEGRAM = web.AppKey("email_telegram", TelegramSender)
TELLING = web.AppKey("email_telling", set)


def add_email_routes(app: web.Application, telegram: TelegramSender | None = None) -> None:
    """`telegram`: how the bot tells an account's chats that its address is confirmed (not told without it)."""
    if telegram is not None:
        app[TELEGRAM] = telegram
    app[TELLING] = set()
    app.on_shutdown.append(finish_telling)
    app.router.add_get(VERIFY_PATH, verify_page)  # HEAD too
    app.router.add_post(VERIFY_PATH, verify)
    app.router.add_get(UNSUBSCRIBE_PATH, unsubscribe_page)
    app.router.add_post(UNSUBSCRIBE_PATH, unsubscribe)
    app.router.add_get(DIGEST_UNSUBSCRIBE_PATH, digest_unsubscribe_page)
    app.router.add_post(DIGEST_UNSUBSCRIBE_PATH, digest_unsubscribe)


def page(title: str, paragraphs: list[str], language: str, status: int = 200) -> web.Response:
    """A small HTML page; `paragraphs` are HTML (their parts escaped by the caller)."""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    html = (f'<!doctype html>\n<html lang="{escape(language, quote=True)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body><main>\n<h1>{escape(title)}</h1>\n{body}\n</main></body></html>\n")
    return web.Response(text=html, content_type="text/html", status=status, headers=HEADERS)


def said(template: str, **values: str) -> str:
    """A translated sentence as HTML, the template and the values escaped."""
    return escape(template).format(**{key: f"<b>{escape(value)}</b>" for key, value in values.items()})


def button(request: web.Request, label: str, fields: dict[str, str] | None = None) -> str:
    """A form that POSTs (with `fields` as hidden inputs) to the page's own address."""
    hidden = "".join(f'<input type="hidden" name="{escape(name, quote=True)}" value="{escape(value, quote=True)}">'
                     for name, value in (fields or {}).items())
    return (f'<form method="post" action="{escape(request.path, quote=True)}">{hidden}'
            f'<button type="submit">{escape(label)}</button></form>')


def unknown_link(request: web.Request) -> web.Response:
    i18n = request.app[I18N]
    language = browser_language(i18n, request.headers.get("Accept-Language", ""))
    with speaking(i18n, language):
        return page(_("Unknown link"), [
            said(_("This link is not valid (any more). If you changed your email address, use the link in the "
                   "newest email.")),
        ], language, status=404)


async def verify_page(request: web.Request) -> web.Response:
    """Opening the verification link (GET, HEAD) only asks: mail scanners open every link in an email."""
    return await answer_verification_link(request, confirm=False)


async def verify(request: web.Request) -> web.Response:
    """The button on the verification link's page confirms the address."""
    return await answer_verification_link(request, confirm=True)


async def answer_verification_link(request: web.Request, *, confirm: bool) -> web.Response:
    address = await EmailAddress.by_verify_token(request.match_info["token"])
    if address is None:
        return unknown_link(request)
    now, language = datetime.now(UTC), address.account.language
    with speaking(request.app[I18N], language):
        settled = settled_verification_page(address, now, language)
        if settled is not None:
            return settled
        if confirm and await mark_confirmed(address, now):
            tell_in_background(request.app, address.account_id, address.address, language)
            return page(_("Email confirmed"), [
                said(_("Contest reminders will now come to {address}."), address=address.address),
                said(_("Every email has a link to unsubscribe.")),
                await way_back(request),
            ], language)
        return page(_("Confirm your email"), [
            said(_("Send contest reminders to {address}?"), address=address.address),
            button(request, _("Confirm this address")),
        ], language)


async def way_back(request: web.Request) -> str:
    """A link back to the bot (https://t.me/<its name>), or to the site while the bot's name is unknown."""
    telegram = request.app[SIGN_IN].telegram
    name = await telegram.username() if telegram is not None else None
    if name is not None and BOT_USERNAME.fullmatch(name):
        return link_to(f"https://t.me/{name}", _("Back to the bot"))
    return link_to(request.app[PUBLIC_URL] + "/", _("To the contest calendar"))


def link_to(url: str, label: str) -> str:
    """A link that looks like a button: what to do next."""
    return f'<a class="next" href="{escape(url, quote=True)}">{escape(label)}</a>'


def tell_in_background(app: web.Application, account_id: int, address: str, language: str) -> None:
    """Have the bot tell the account's chats, without keeping the page waiting (kept until done, so a stopping
    process can let it finish)."""
    if TELEGRAM not in app:
        return
    task = asyncio.create_task(tell_confirmed(app[TELEGRAM], app[I18N], account_id, address, language))
    app[TELLING].add(task)
    task.add_done_callback(app[TELLING].discard)


async def tell_confirmed(telegram: TelegramSender, i18n: I18n, account_id: int, address: str, language: str) -> None:
    """'✅ ann@example.org is confirmed' in each active Telegram chat of the account, in its language. What fails
    is one log line: the address is confirmed all the same."""
    with speaking(i18n, language):
        text = _("✅ {address} is confirmed: contest reminders will come there too.").format(address=escape(address))
    try:
        chats = await TelegramChat.filter(account_id=account_id, active=True).values_list("chat_id", flat=True)
        for chat_id in chats:
            result = await telegram.send(chat_id, text)
            if result.outcome is Outcome.FAILED:  # a chat that blocked the bot is the sender's to log (and forget)
                log.warning("could not tell chat %s that its email address is confirmed: %s", chat_id, result.error,
                            extra={"chat_id": chat_id})
    except Exception as error:  # the database or the rate limiter (Redis): the confirmation stands
        log.warning("could not tell account %s that its email address is confirmed: %s: %s", account_id,
                    type(error).__name__, error)


async def finish_telling(app: web.Application) -> None:
    if app[TELLING]:
        await asyncio.wait(set(app[TELLING]), timeout=TELLING_GRACE)


def settled_verification_page(address: EmailAddress, now: datetime, language: str) -> web.Response | None:
    """What the verification link says once there is nothing to confirm: the address unsubscribed (the link
    never subscribes it again), is confirmed already, or the link expired. None while it waits."""
    if address.unsubscribed:
        return page(_("Unsubscribed"), [
            said(_("{address} is unsubscribed: this link does not subscribe it again."), address=address.address),
            said(_("Changed your mind? Send /email {address} to the bot again."), address=address.address),
        ], language)
    if address.verified_at is not None:
        return page(_("Already confirmed"), [
            said(_("{address} is already confirmed: contest reminders come there."), address=address.address),
            said(_("Every email has a link to unsubscribe.")),
        ], language)
    if address.verify_sent_at is None or now - address.verify_sent_at > VERIFY_LINK_LIFETIME:
        return page(_("Link expired"), [
            said(_("This confirmation link for {address} has expired."), address=address.address),
            said(_("For a new one, send /email {address} to the bot again."), address=address.address),
        ], language, status=410)
    return None


async def mark_confirmed(address: EmailAddress, now: datetime) -> bool:
    """Confirm the address, unless since it was read it got a new link, was confirmed or unsubscribed."""
    changed = await EmailAddress.filter(id=address.id, verify_token=address.verify_token, verified_at__isnull=True,
                                        unsubscribed=False).update(verified_at=now)
    return changed == 1


async def unsubscribe_page(request: web.Request) -> web.Response:
    address = await EmailAddress.by_token(request.match_info["token"])
    if address is None:
        return unknown_link(request)
    language = address.account.language
    with speaking(request.app[I18N], language):
        if address.unsubscribed:
            return unsubscribed_page(address, language)
        field, value = ONE_CLICK.split("=")
        action = _("Unsubscribe")
        return page(action, [
            said(_("Stop all emails from contestbell to {address}?"), address=address.address),
            button(request, action, {field: value}),
        ], language)


async def unsubscribe(request: web.Request) -> web.Response:
    """The one-click target: a POST (body `List-Unsubscribe=One-Click`) unsubscribes, no questions asked."""
    return await stop_at_link(request, "unsubscribed", unsubscribed_page)


async def stop_at_link(request: web.Request, flag: str,
                       shown: Callable[[EmailAddress, str], web.Response]) -> web.Response:
    """Set `flag` on the address of the link's token (once), then show what stopped, in the account's language."""
    address = await EmailAddress.by_token(request.match_info["token"])
    if address is None:
        return unknown_link(request)
    if not getattr(address, flag):
        await EmailAddress.filter(id=address.id).update(**{flag: True})
        setattr(address, flag, True)
    language = address.account.language
    with speaking(request.app[I18N], language):
        return shown(address, language)


def unsubscribed_page(address: EmailAddress, language: str) -> web.Response:
    return page(_("Unsubscribed"), [
        said(_("No more emails from contestbell will come to {address}."), address=address.address),
        said(_("Changed your mind? Send /email {address} to the bot again."), address=address.address),
    ], language)


async def digest_unsubscribe_page(request: web.Request) -> web.Response:
    """The digest's unsubscribe link (GET, HEAD) only asks: mail scanners open every link in an email."""
    address = await EmailAddress.by_token(request.match_info["token"])
    if address is None:
        return unknown_link(request)
    language = address.account.language
    with speaking(request.app[I18N], language):
        if address.digest_unsubscribed or address.unsubscribed:
            return digests_stopped_page(address, language)
        field, value = ONE_CLICK.split("=")
        return page(_("Stop digests"), [
            said(_("Stop the contest digests to {address}?"), address=address.address),
            said(_("Contest reminders by email keep coming: each has its own unsubscribe link.")),
            button(request, _("Stop digests"), {field: value}),
        ], language)


async def digest_unsubscribe(request: web.Request) -> web.Response:
    """The digest's one-click target: a POST (body `List-Unsubscribe=One-Click`) stops digests to the address, no
    questions asked; its reminders by email keep coming."""
    return await stop_at_link(request, "digest_unsubscribed", digests_stopped_page)


def digests_stopped_page(address: EmailAddress, language: str) -> web.Response:
    if address.unsubscribed:  # nothing comes there any more, digests or reminders
        return unsubscribed_page(address, language)
    return page(_("Digests stopped"), [
        said(_("No more contest digests will come to {address}."), address=address.address),
        said(_("Contest reminders by email keep coming: each has its own unsubscribe link.")),
    ], language)
