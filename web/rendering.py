"""Rendering the site's own pages (sign-in, account, notices): the page's language and its switcher, the
template rendered in that language, and the headers a page about one person carries (never cached, never
shared)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from notify.i18n import language_name, languages, speaking
from web.calendar import query_pairs, with_parameter
from web.keys import I18N
from web.language import page_language, remember_language

PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def page_language_of(request: web.Request) -> str:
    return page_language(request.app[I18N], request)


def language_switcher(request: web.Request) -> list[tuple[str, str, str]]:
    pairs = query_pairs(request.query)
    return [(code, language_name(code), with_parameter(pairs, "lang", code)) for code in languages(request.app[I18N])]


async def rendered(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """`template` in the page's language; `context` may hold texts to translate (the templates do it)."""
    i18n = request.app[I18N]
    language = page_language(i18n, request)
    with speaking(i18n, language):
        body = aiohttp_jinja2.render_string(template, request, {
            "language": language, "languages": language_switcher(request), **context})
    response = web.Response(text=body, content_type="text/html", status=status,
                            headers={**PRIVATE_HEADERS, "Content-Language": language})
    remember_language(request, response, language)
    return response
