"""Responses that the API and the feeds share: bodies with an ETag (answering If-None-Match with 304), and
JSON errors that name the parameter at fault."""

from __future__ import annotations

from hashlib import blake2b

from aiohttp import web


def etag_of(body: bytes) -> str:
    return '"' + blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Does an If-None-Match header name this ETag? Weak comparison, as RFC 9110 asks for GET."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def etagged(request: web.Request, body: bytes, content_type: str, *, cache_control: str = "no-cache",
            headers: dict[str, str] | None = None, etag: str | None = None) -> web.Response:
    """`body` with its ETag, or an empty 304 when the client already has it. A body kept in memory can pass
    its `etag` (from `etag_of`) computed once instead of hashing it on every request."""
    etag = etag or etag_of(body)
    common = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding", **(headers or {})}
    if matches(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=common)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=common)


def json_error(status: int, parameter: str | None, message: str) -> web.Response:
    """`{"error": {"parameter": ..., "message": ...}}`: what was wrong, in words a developer can act on."""
    return web.json_response({"error": {"parameter": parameter, "message": message}}, status=status)
