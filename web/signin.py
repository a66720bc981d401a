"""Signing in on the web: any OpenID Connect provider and GitHub through authlib, the Telegram Login Widget, and
the one-time address the bot's `/link` gives; `POST /logout`.

- `/login` lists what the operator configured (nothing configured: it says how to configure it).
- `/login/<slug>` starts an authorization-code login with state, PKCE (S256) and, for OpenID Connect, a nonce,
  all kept in the session; `/auth/<slug>/callback` finishes it: the state is popped (a forged or replayed one
  is refused), the code is exchanged with the verifier, and the id token's signature, issuer, audience, expiry
  and nonce are checked by joserfc (authlib's JOSE library). GitHub has no id token: its user API names the
  person.
- The person's identity (provider, subject) finds their account; a new one makes an account. Signed in already
  as someone else, the identity's account and the session's merge (the login proved both are the same person).
- `/auth/telegram/callback` takes the Login Widget's payload, checked with HMAC-SHA256 keyed by SHA-256 of the bot
  token, and not older than a day: it signs in the account of the person's private chat with the bot.
Every refusal is a 400 page that says what happened, in the page's language.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from aiohttp import web
from aiohttp_session import get_session
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from models.account import Account, OAuthIdentity, TelegramChat
from models.linking import Purpose, merge_accounts, use_link_token
from models.selection import POPULAR_SITES
from notify.i18n import N_
from web.keys import PUBLIC_URL
from web.rendering import page_language_of, rendered
from web.sessions import checked_form, csrf_token, sign_in, sign_out, signed_in

with warnings.catch_warnings():  # authlib 1.9 warns that its httpx client will move to httpx2 one day
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger("contestbell.web.signin")

#: a login not finished within this many seconds is refused
LOGIN_LIFETIME = 600
#: logins started and not finished that a session keeps (the newest)
PENDING_LOGINS = 5
#: the Login Widget's payload is refused once older than this many seconds
WIDGET_LIFETIME = 86400
HTTP_TIMEOUT = 10.0
#: the Telegram Login Widget needs its script from telegram.org and its frame from oauth.telegram.org
LOGIN_CSP = ("default-src 'self'; script-src 'self' https://telegram.org; frame-src https://oauth.telegram.org; "
             "style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
             "frame-ancestors 'none'; form-action 'self'")


class SignInRefused(Exception):
    """What the person is told on the 400 page (translated when shown)."""

    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message, self.values = message, values


@dataclass(frozen=True, slots=True)
class Provider:
    """An OAuth 2 provider the operator configured: generic OpenID Connect (discovery at the issuer) or GitHub."""

    slug: str
    label: str
    kind: Literal["oidc", "github"]
    client_id: str
    client_secret: str = field(repr=False)
    issuer: str = ""  # oidc
    github_url: str = "https://github.com"  # github: where its OAuth pages are
    github_api: str = "https://api.github.com"  # github: its user API

    @property
    def scope(self) -> str:
        return "openid email profile" if self.kind == "oidc" else "read:user user:email"


@dataclass(frozen=True, slots=True)
class TelegramLogin:
    """The bot behind the Login Widget (and the t.me links of the account page)."""

    token: str = field(repr=False)
    username: Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class SignInOptions:
    providers: tuple[Provider, ...] = ()
    telegram: TelegramLogin | None = None


SIGN_IN = web.AppKey("sign_in", SignInOptions)


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize: str
    token: str
    jwks: str = ""
    issuer: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    name: str | None


def add_signin_routes(app: web.Application, options: SignInOptions) -> None:
    app[SIGN_IN] = options
    app.router.add_get("/login", login_page)
    app.router.add_get("/login/{slug:[a-z]{1,20}}", start_login)
    app.router.add_get("/auth/telegram/callback", telegram_callback)
    app.router.add_get("/auth/{slug:[a-z]{1,20}}/callback", finish_login)
    app.router.add_get("/link/{token}", link_page)
    app.router.add_post("/link/{token}", use_link)
    app.router.add_post("/logout", logout)


def provider_of(request: web.Request) -> Provider:
    slug = request.match_info["slug"]
    for provider in request.app[SIGN_IN].providers:
        if provider.slug == slug:
            return provider
    raise web.HTTPNotFound(text="no such sign-in provider on this server\n")


def callback_url(request: web.Request, slug: str) -> str:
    return f"{request.app[PUBLIC_URL]}/auth/{slug}/callback"


def next_page(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another site: an open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/account"


# the login page


async def login_page(request: web.Request) -> web.Response:
    options = request.app[SIGN_IN]
    widget_bot = await options.telegram.username() if options.telegram is not None else None
    following = next_page(request.query.get("next"))
    response = await rendered(request, "login.html", {
        "title_key": "Sign in",
        "providers": [(p.label, f"/login/{p.slug}?{urlencode({'next': following})}") for p in options.providers],
        "widget_bot": widget_bot,
        "widget_callback": "/auth/telegram/callback?" + urlencode({"next": following}),
        "account": await signed_in(request),
        "csrf": await csrf_token(request),
    })
    response.headers["Content-Security-Policy"] = LOGIN_CSP
    return response


async def logout(request: web.Request) -> web.Response:
    await checked_form(request)
    await sign_out(request)
    raise web.HTTPSeeOther("/")


# OAuth 2 and OpenID Connect


async def endpoints(provider: Provider) -> Endpoints:
    """Where to send the person and where to exchange the code (OpenID Connect: from the issuer's discovery
    document, whose issuer must be the one configured)."""
    if provider.kind == "github":
        base = provider.github_url
        return Endpoints(f"{base}/login/oauth/authorize", f"{base}/login/oauth/access_token")
    discovery = await get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
    if discovery.get("issuer") != provider.issuer:
        raise SignInRefused(N_("The sign-in provider is not set up right on this server."))
    return Endpoints(discovery["authorization_endpoint"], discovery["token_endpoint"], discovery["jwks_uri"],
                     discovery["issuer"])


async def get_json(url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        return response.json()


def oauth_client(provider: Provider, request: web.Request, state: str | None = None) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(provider.client_id, provider.client_secret, scope=provider.scope, state=state,
                             redirect_uri=callback_url(request, provider.slug), code_challenge_method="S256",
                             timeout=HTTP_TIMEOUT)


async def start_login(request: web.Request) -> web.Response:
    provider = provider_of(request)
    try:
        where = await endpoints(provider)
    except (httpx.HTTPError, ValueError, KeyError) as error:
        log.warning("sign-in with %s: the provider's discovery failed: %s", provider.slug, type(error).__name__)
        return await refused(request, SignInRefused(N_("The sign-in provider does not answer just now. Try again "
                                                    "in a few minutes.")), status=502)
    verifier = generate_token(48)
    nonce = generate_token(24) if provider.kind == "oidc" else None
    async with oauth_client(provider, request) as client:
        url, state = client.create_authorization_url(where.authorize, code_verifier=verifier,
                                                     **({"nonce": nonce} if nonce else {}))
    session = await get_session(request)
    pending = dict(session.get("logins") or {})
    pending[state] = {"slug": provider.slug, "verifier": verifier, "nonce": nonce, "at": time.time(),
                      "next": next_page(request.query.get("next"))}
    session["logins"] = dict(sorted(pending.items(), key=lambda item: item[1]["at"])[-PENDING_LOGINS:])
    raise web.HTTPFound(url)


async def finish_login(request: web.Request) -> web.Response:
    provider = provider_of(request)
    try:
        login = await pending_login(request, provider)
        person = await who_signed_in(request, provider, login)
    except SignInRefused as refusal:
        return await refused(request, refusal)
    current = await signed_in(request)
    account_id = await account_of_identity(provider.slug, person, current, page_language_of(request))
    await sign_in(request, account_id)
    log.info("account %d signed in with %s", account_id, provider.slug)
    raise web.HTTPSeeOther(login["next"])


async def pending_login(request: web.Request, provider: Provider) -> dict[str, Any]:
    """The login this callback finishes (taken out of the session: a state works once)."""
    state = request.query.get("state", "")
    session = await get_session(request)
    pending = dict(session.get("logins") or {})
    login = pending.pop(state, None)
    session["logins"] = pending
    if login is None or login.get("slug") != provider.slug:
        raise SignInRefused(N_("This sign-in link is not valid: it was used already, or it did not come from this "
                            "site. Start again from the sign-in page."))
    if time.time() - login["at"] > LOGIN_LIFETIME:
        raise SignInRefused(N_("This sign-in took too long. Start again from the sign-in page."))
    error = request.query.get("error")
    if error == "access_denied":
        raise SignInRefused(N_("You did not allow the sign-in at {provider}, so you are not signed in."),
                            provider=provider.label)
    if error or not request.query.get("code"):
        raise SignInRefused(N_("{provider} did not sign you in (it answered: {error}). Try again."),
                            provider=provider.label, error=(error or "no code")[:60])
    return login


async def who_signed_in(request: web.Request, provider: Provider, login: dict[str, Any]) -> Person:
    where = await endpoints(provider)
    try:
        async with oauth_client(provider, request, state=request.query["state"]) as client:
            token = await client.fetch_token(where.token, code=request.query["code"], code_verifier=login["verifier"],
                                             headers={"Accept": "application/json"})
            if provider.kind == "oidc":
                return await person_in_id_token(token, where, provider, login["nonce"])
            return await github_person(provider, token["access_token"])
    except (OAuthError, httpx.HTTPError, KeyError, ValueError) as error:
        log.warning("sign-in with %s failed at the token exchange: %s", provider.slug, type(error).__name__)
        raise SignInRefused(N_("{provider} did not confirm the sign-in. Start again from the sign-in page."),
                            provider=provider.label) from None


async def person_in_id_token(token: Mapping[str, Any], where: Endpoints, provider: Provider, nonce: str) -> Person:
    """The id token's claims, once its signature, issuer, audience, expiry and nonce are right."""
    if "id_token" not in token:
        raise SignInRefused(N_("{provider} sent no identity. Start again from the sign-in page."),
                            provider=provider.label)
    try:
        keys = KeySet.import_key_set(await get_json(where.jwks))
        claims = jwt.decode(token["id_token"], keys).claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": where.issuer},
                              aud={"essential": True, "value": provider.client_id},
                              nonce={"essential": True, "value": nonce}, exp={"essential": True},
                              sub={"essential": True}).validate(claims)
    except (JoseError, ValueError, httpx.HTTPError) as error:
        log.warning("sign-in with %s: the id token was refused: %s", provider.slug, type(error).__name__)
        raise SignInRefused(N_("The identity {provider} sent could not be verified, so you are not signed in."),
                            provider=provider.label) from None
    email = claims.get("email") if claims.get("email_verified") is True else None
    return Person(str(claims["sub"]), email, claims.get("name"))


async def github_person(provider: Provider, access_token: str) -> Person:
    user = await get_json(f"{provider.github_api}/user", access_token)
    emails = await get_json(f"{provider.github_api}/user/emails", access_token)
    verified = [item["email"] for item in emails if item.get("verified") and item.get("primary")]
    return Person(str(int(user["id"])), verified[0] if verified else None, user.get("name") or user.get("login"))


async def account_of_identity(provider: str, person: Person, current: Account | None, language: str) -> int:
    """The account this identity signs into: its own (merged with the session's, when someone else was signed
    in), the session's (the identity is new: it is added), or a new account."""
    identity = await OAuthIdentity.get_or_none(provider=provider, subject=person.subject)
    if identity is not None:
        await OAuthIdentity.filter(id=identity.id).update(email=person.email)
        if current is not None and current.id != identity.account_id:
            return await merge_accounts(identity.account_id, current.id)
        return identity.account_id
    account_id = current.id if current is not None else (await new_account(language)).id
    await OAuthIdentity.create(provider=provider, subject=person.subject, email=person.email, account_id=account_id)
    return account_id


async def new_account(language: str) -> Account:
    return await Account.create(kind="person", language=language, sites=list(POPULAR_SITES))


# the Telegram Login Widget


def widget_payload_is_genuine(payload: Mapping[str, str], bot_token: str, now: float) -> bool:
    """Telegram's check: HMAC-SHA256 of the sorted "key=value" lines, keyed by SHA-256 of the bot token; and not
    older than a day (nor from the future)."""
    sent = payload.get("hash", "")
    check = "\n".join(f"{key}={value}" for key, value in sorted(payload.items()) if key not in ("hash", "next"))
    expected = hmac.new(hashlib.sha256(bot_token.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
    try:
        age = now - int(payload.get("auth_date", ""))
    except ValueError:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode()) and -60 <= age <= WIDGET_LIFETIME


async def telegram_callback(request: web.Request) -> web.Response:
    telegram = request.app[SIGN_IN].telegram
    payload = {key: value for key, value in request.query.items()}
    if telegram is None or not widget_payload_is_genuine(payload, telegram.token, time.time()) or \
            not payload.get("id", "").isdigit() or len(payload["id"]) > 18:
        return await refused(request, SignInRefused(N_("This Telegram sign-in could not be verified (or it is more "
                                                    "than a day old). Sign in again.")))
    chat = await private_chat(int(payload["id"]), payload, page_language_of(request))
    current = await signed_in(request)
    account_id = chat.account_id if current is None else await merge_accounts(chat.account_id, current.id)
    await sign_in(request, account_id)
    raise web.HTTPSeeOther(next_page(payload.get("next")))


async def private_chat(user_id: int, payload: Mapping[str, str], language: str) -> TelegramChat:
    """The person's private chat with the bot (its id is theirs), made with an account when it is new."""
    chat = await TelegramChat.get_or_none(chat_id=user_id)
    if chat is not None:
        return chat
    account = await new_account(language)
    name = " ".join(filter(None, (payload.get("first_name"), payload.get("last_name")))) or payload.get("username")
    return await TelegramChat.create(chat_id=user_id, account=account, chat_type="private", title=(name or "")[:255])


# /link/<token>: the address the bot's /link gives


async def link_page(request: web.Request) -> web.Response:
    """Opening the address only asks (link previews and scanners open it too); the button signs in."""
    return await rendered(request, "link.html", {"csrf": await csrf_token(request),
                                                 "action": request.path})


async def use_link(request: web.Request) -> web.Response:
    await checked_form(request)
    account_id = await use_link_token(request.match_info["token"], Purpose.WEB, datetime.now(UTC))
    if account_id is None:
        return await refused(request, SignInRefused(N_("This sign-in address is not valid any more: it works once, "
                                                    "for 10 minutes. Send /link to the bot for a new one.")))
    current = await signed_in(request)
    if current is not None:
        account_id = await merge_accounts(account_id, current.id)
    await sign_in(request, account_id)
    raise web.HTTPSeeOther("/account")


async def refused(request: web.Request, refusal: SignInRefused, status: int = 400) -> web.Response:
    return await rendered(request, "notice.html", {"refusal": refusal}, status=status)
