"""The links in emails: confirming an address, and unsubscribing from it in one click (RFC 8058).

Both work without logging in or cookies: the unguessable token in the link is the proof. A GET never changes
a subscription (mail scanners open links); the unsubscribe page's button, and mail clients' one-click
unsubscribe, POST to the same address. Pages speak the account's language; everything shown is escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from models.account import EmailAddress
from notify.email import ONE_CLICK, UNSUBSCRIBE_PATH, VERIFY_PATH
from notify.i18n import speaking
from web.keys import I18N
from web.language import browser_language

MAX_TOKEN = 64  # the column's length: longer tokens are unknown without asking the database
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
         "button{font-size:1rem;padding:.5rem 1.25rem}")


def add_email_routes(app: web.Application) -> None:
    app.router.add_get(VERIFY_PATH, verify)
    app.router.add_get(UNSUBSCRIBE_PATH, unsubscribe_page)
    app.router.add_post(UNSUBSCRIBE_PATH, unsubscribe)


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


async def address_of(request: web.Request) -> EmailAddress | None:
    token = request.match_info["token"]
    if not token or len(token) > MAX_TOKEN:
        return None
    return await EmailAddress.get_or_none(token=token).select_related("account")


def unknown_link(request: web.Request) -> web.Response:
    i18n = request.app[I18N]
    language = browser_language(i18n, request.headers.get("Accept-Language", ""))
    with speaking(i18n, language):
        return page(_("Unknown link"), [
            said(_("This link is not valid (any more). If you changed your email address, use the link in the "
                   "newest email.")),
        ], language, status=404)


async def verify(request: web.Request) -> web.Response:
    address = await address_of(request)
    if address is None:
        return unknown_link(request)
    if address.verified_at is None:
        address.verified_at = datetime.now(UTC)
        await address.save(update_fields=["verified_at"])
    language = address.account.language
    with speaking(request.app[I18N], language):
        return page(_("Email confirmed"), [
            said(_("Contest reminders will now come to {address}."), address=address.address),
            said(_("Every email has a link to unsubscribe.")),
        ], language)


async def unsubscribe_page(request: web.Request) -> web.Response:
    address = await address_of(request)
    if address is None:
        return unknown_link(request)
    language = address.account.language
    with speaking(request.app[I18N], language):
        if address.unsubscribed:
            return unsubscribed_page(address, language)
        field, value = ONE_CLICK.split("=")
        action = _("Unsubscribe")
        form = (f'<form method="post" action="{escape(request.path, quote=True)}">'
                f'<input type="hidden" name="{field}" value="{value}">'
                f'<button type="submit">{escape(action)}</button></form>')
        return page(action, [
            said(_("Stop all emails from contestbell to {address}?"), address=address.address),
            form,
        ], language)


async def unsubscribe(request: web.Request) -> web.Response:
    """The one-click target: a POST (body `List-Unsubscribe=One-Click`) unsubscribes, no questions asked."""
    address = await address_of(request)
    if address is None:
        return unknown_link(request)
    if not address.unsubscribed:
        await EmailAddress.filter(id=address.id).update(unsubscribed=True)
    language = address.account.language
    with speaking(request.app[I18N], language):
        return unsubscribed_page(address, language)


def unsubscribed_page(address: EmailAddress, language: str) -> web.Response:
    return page(_("Unsubscribed"), [
        said(_("No more emails from contestbell will come to {address}."), address=address.address),
        said(_("Changed your mind? Send /email {address} to the bot again."), address=address.address),
    ], language)
