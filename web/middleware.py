"""What every response gets: security headers (a Content-Security-Policy without inline script) and gzip
for text bodies when the client accepts it. An error of ours becomes a plain 500 with the same headers (JSON
under /api/), logged; Sentry's aiohttp integration reports the 500 with the original error as its cause."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from sentry_sdk.integrations.logging import ignore_logger

#: the traceback goes to the log; Sentry hears of the error once, through its aiohttp integration's 500
log = logging.getLogger("contestbell.web.errors")
ignore_logger(log.name)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: scripts and styles only from our own /static files; the live page's WebSocket is same-origin ('self')
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
#: below this many bytes gzip costs more than it saves
MIN_COMPRESSED = 860


def add_security_headers(response: web.StreamResponse) -> None:
    """Defaults only: a handler that needs its own policy (the email pages' inline style) sets it first."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        add_security_headers(error)
        raise
    except Exception as error:
        log.exception("%s %s failed", request.method, request.path)
        raise internal_error(request) from error
    if not response.prepared:  # a WebSocket or a streamed body has sent its headers already
        add_security_headers(response)
    return response


def internal_error(request: web.Request) -> web.HTTPInternalServerError:
    """What the client sees of an error of ours: no details, no stack trace."""
    if request.path.startswith("/api/"):
        error = web.HTTPInternalServerError(
            text='{"error": {"parameter": null, "message": "internal error; it has been logged"}}',
            content_type="application/json")
    else:
        error = web.HTTPInternalServerError(text="Something went wrong on our side; it has been logged.\n")
    add_security_headers(error)
    return error


def worth_compressing(request: web.Request, response: web.StreamResponse) -> bool:
    if response.prepared or not isinstance(response, web.Response) or response.body is None:
        return False
    if response.status in (204, 304) or hdrs.CONTENT_ENCODING in response.headers:
        return False
    content_type = response.content_type or ""
    size = len(response.body) if isinstance(response.body, bytes | bytearray) else 0
    return (size >= MIN_COMPRESSED and content_type.startswith(COMPRESSIBLE)
            and "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower())


@web.middleware
async def gzip(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if worth_compressing(request, response):
        response.enable_compression(web.ContentCoding.gzip)
        response.headers.setdefault(hdrs.VARY, "Accept-Encoding")
    return response
