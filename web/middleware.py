"""What every response gets: security headers (a Content-Security-Policy without inline script) and gzip
for text bodies when the client accepts it. An error of ours becomes a plain 500 with the same headers (JSON
under /api/), logged; Sentry's aiohttp integration reports the 500 with the original error as its cause."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from sentry_sdk.integrations.logging import ignore_logger

from models.outages import DATABASE_DOWN, Complaints
from notify.preferences import is_storable_text

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


#: paths longer than this are cut in the log
LOGGED_PATH_LENGTH = 200


def loggable_path(request: web.Request) -> str:
    """The path as it may appear in a log: a token in it (feeds, email links) is never written, and nothing a
    client sent can start a line of its own (the path stays %-encoded as it came; the query is left out)."""
    if "token" in request.match_info:
        return request.match_info.route.resource.canonical if request.match_info.route.resource else "/…/{token}"
    path = request.rel_url.raw_path
    return path if len(path) <= LOGGED_PATH_LENGTH else path[:LOGGED_PATH_LENGTH] + "…"


class ClientErrorsAsWarnings(logging.Filter):
    """On aiohttp's server logger: malformed HTTP from a client (the internet sends it all day) becomes one
    WARNING line without a traceback; a body that broke on the way was already reported by whoever read it
    (the server only meets it again when it drains the rest), so that second report is DEBUG. Anything else
    keeps its level and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, web.RequestPayloadError):
            return self._demoted(record, logging.DEBUG, "request body unreadable: %s", _one_line(error))
        if isinstance(error, HttpProcessingError):
            peer = record.args[0] if isinstance(record.args, tuple) and record.args else "a client"
            return self._demoted(record, logging.WARNING, "malformed HTTP from %s: %s", peer, _one_line(error))
        return True

    @staticmethod
    def _demoted(record: logging.LogRecord, level: int, message: str, *args: object) -> bool:
        record.msg, record.args = message, args
        record.levelno, record.levelname = level, logging.getLevelName(level)
        record.exc_info = record.exc_text = None
        return logging.getLogger(record.name).isEnabledFor(level)


def _one_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {getattr(error, 'message', error)}".split())
    return text.encode("unicode_escape").decode("ascii")[:300]


def quiet_about_malformed_requests() -> None:
    """Put the filter on aiohttp's server logger (once per process)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientErrorsAsWarnings) for f in server_log.filters):
        server_log.addFilter(ClientErrorsAsWarnings())


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        add_security_headers(error)
        raise
    except DATABASE_DOWN as error:  # not a bug of ours: one line every few seconds, not a traceback per request
        DATABASE_COMPLAINTS.failed(error)
        raise unavailable(request) from None
    except web.RequestPayloadError as error:  # the client's body broke on the way (a false Content-Encoding...)
        log.warning("%s %s: unreadable request body: %s", request.method, loggable_path(request), _one_line(error))
        raise with_security_headers(web.HTTPBadRequest(text="The request body could not be read.\n")) from None
    except Exception as error:
        log.exception("%s %s failed", request.method, loggable_path(request))
        raise internal_error(request) from error
    if not response.prepared:  # a WebSocket or a streamed body has sent its headers already
        add_security_headers(response)
    return response


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@web.middleware
async def storable_input_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """NUL and lone surrogates (which no database column takes) anywhere in the path, the query or a form are
    refused at the door: a path holding one names nothing (404), a parameter holding one is a 400."""
    if not is_storable_text(request.path):
        raise web.HTTPNotFound()
    for name, value in request.query.items():
        if not (is_storable_text(name) and is_storable_text(value)):
            raise unreadable_parameter(request, name)
    if request.method == hdrs.METH_POST and request.content_type in FORM_TYPES:
        for name, value in (await request.post()).items():
            if not is_storable_text(name) or (isinstance(value, str) and not is_storable_text(value)):
                raise unreadable_parameter(request, name)
    return await handler(request)


def unreadable_parameter(request: web.Request, name: str) -> web.HTTPBadRequest:
    shown = name.encode("unicode_escape", "backslashreplace").decode("ascii")[:50]
    message = f"`{shown}` holds a NUL byte or a lone surrogate: it is not text"
    if request.path.startswith("/api/"):
        return web.HTTPBadRequest(text=json.dumps({"error": {"parameter": shown, "message": message}}),
                                  content_type="application/json")
    return web.HTTPBadRequest(text=message + "\n")


#: how long a client should wait before it asks again while the database is unavailable
RETRY_AFTER = 5
DATABASE_COMPLAINTS = Complaints("the database", log)


def unavailable(request: web.Request) -> web.HTTPServiceUnavailable:
    """What the client sees while the database is down: try again in a few seconds."""
    text = "The service is briefly unavailable; please try again in a few seconds."
    headers = {"Retry-After": str(RETRY_AFTER)}
    if request.path.startswith("/api/"):
        body = json.dumps({"error": {"parameter": None, "message": text}})
        error = web.HTTPServiceUnavailable(text=body, content_type="application/json", headers=headers)
    else:
        error = web.HTTPServiceUnavailable(text=text + "\n", headers=headers)
    add_security_headers(error)
    return error


def with_security_headers(error: web.HTTPException) -> web.HTTPException:
    add_security_headers(error)
    return error


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
