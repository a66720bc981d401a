"""Which language a page speaks: `?lang=` (remembered in a cookie), then the cookie, then the browser's
Accept-Language; English when none of them names a language we speak."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiohttp import web
from babel import Locale, UnknownLocaleError

from notify.i18n import languages

LANGUAGE_COOKIE = "lang"


def browser_language(i18n: I18n, accept_language: str) -> str:
    """The first language of an Accept-Language header that we speak (for pages without an account)."""
    spoken = {i18n.default_locale, *i18n.available_locales}
    ranked = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _sep, quality = item.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
            code = Locale.parse(tag.strip(), sep="-").language if tag.strip() not in ("", "*") else ""
        except (ValueError, UnknownLocaleError):
            continue
        if code in spoken:
            ranked.append((-weight, position, code))
    return min(ranked)[2] if ranked else i18n.default_locale


def chosen_language(i18n: I18n, request: web.Request) -> str | None:
    """The language the visitor picked: `?lang=` first, then the cookie the switcher left; None if neither
    names a language we speak."""
    spoken = languages(i18n)
    for picked in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if picked in spoken:
            return picked
    return None


def page_language(i18n: I18n, request: web.Request) -> str:
    return chosen_language(i18n, request) or browser_language(i18n, request.headers.get("Accept-Language", ""))


def remember_language(request: web.Request, response: web.StreamResponse, language: str) -> None:
    """After `?lang=`, later pages (without the parameter) speak the same language."""
    if request.query.get("lang") == language and request.cookies.get(LANGUAGE_COOKIE) != language:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, path="/", samesite="Lax")
