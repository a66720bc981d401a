"""Who is signed in: sessions with aiohttp-session (in Redis when it is configured, so every web process shares
them; otherwise in a cookie encrypted with a key derived from the secret key), and the CSRF token that every
form that changes something carries.

The cookie is HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET, so it still comes with
it), and Secure when the public address is https. Signing in starts a new session (a new id in Redis, a new
cookie otherwise), so a session fixed before sign-in is worth nothing after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp_session import AbstractStorage, Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from aiohttp_session.redis_storage import RedisStorage
from multidict import MultiDictProxy

from models.account import Account
from models.linking import current_id

COOKIE = "contestbell_session"
#: a session lasts this long without a visit
MAX_AGE = 30 * 86400
ACCOUNT = "account"
CSRF = "csrf"
CSRF_FIELD = "csrf"


def session_storage(secret_key: str | None, redis: aioredis.Redis | None, *, secure: bool) -> AbstractStorage:
    """Redis when there is one; an encrypted cookie otherwise (without a secret key, a key for this process
    alone: sessions then end with it)."""
    options = {"cookie_name": COOKIE, "max_age": MAX_AGE, "httponly": True, "samesite": "Lax", "secure": secure}
    if redis is not None:
        return RedisStorage(redis, **options)
    return EncryptedCookieStorage(cookie_key(secret_key or secrets.token_urlsafe(48)), **options)


def cookie_key(secret_key: str) -> bytes:
    """The 32 bytes of the session cookie's Fernet key: derived from the secret key, so every web process reads
    the cookies the others wrote."""
    return hmac.new(secret_key.encode(), b"session-cookie", hashlib.sha256).digest()


async def signed_in(request: web.Request) -> Account | None:
    """The account of this session (the one it merged into, when it did), or None (never signed in, signed out,
    or the account was deleted)."""
    session = await get_session(request)
    account_id = session.get(ACCOUNT)
    if not isinstance(account_id, int):
        return None
    account = await Account.get_or_none(id=account_id)
    if account is None:
        now = await current_id(account_id)
        account = await Account.get_or_none(id=now) if now is not None else None
        if account is None:
            session.invalidate()
            return None
        session[ACCOUNT] = account.id
    return account


async def sign_in(request: web.Request, account_id: int) -> Session:
    """A new session for the account (and a new CSRF token)."""
    session = await new_session(request)
    session[ACCOUNT] = account_id
    session[CSRF] = secrets.token_urlsafe(24)
    return session


async def sign_out(request: web.Request) -> None:
    (await get_session(request)).invalidate()


async def csrf_token(request: web.Request) -> str:
    """The token this session's forms carry (made on first use)."""
    session = await get_session(request)
    if not isinstance(session.get(CSRF), str):
        session[CSRF] = secrets.token_urlsafe(24)
    return session[CSRF]


async def checked_form(request: web.Request) -> MultiDictProxy[str]:
    """The posted form, when it carries this session's CSRF token; a 403 otherwise (a form from another site,
    or one older than the session)."""
    form = await request.post()
    expected = (await get_session(request)).get(CSRF)
    sent = form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str) or not hmac.compare_digest(
            sent.encode(), expected.encode()):
        raise web.HTTPForbidden(text="This form is out of date or was not sent from this site: reload the page "
                                     "and try again.\n")
    return form
