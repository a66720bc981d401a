"""A fake of GitHub's OAuth app flow and user API over real HTTP, answering as GitHub documents it
(https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).

One server plays both https://github.com (`/login/oauth/authorize`, `/login/oauth/access_token`) and
https://api.github.com (`/user`, `/user/emails`): configure the app under test with its base URL for both.
`/login/oauth/authorize` shows a plain HTML page (`input[name=login]`, `button[name=decision][value=allow|deny]`);
`auto_approve(login)` skips it. Any login is accepted; `user(login)` returns (and lets a test change) the account
behind it. Token errors come back with status 200, as GitHub sends them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from authlib.common.urls import add_params_to_uri

from tests.oidc_provider import AuthorizeRequest, TokenRequest, login_page  # the records are the provider's

CODE_LIFETIME = 600  # seconds: GitHub's codes expire after 10 minutes
DOCS = "https://docs.github.com"
ERROR_URIS = {
    "access_denied": f"{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied",
    "redirect_uri_mismatch": f"{DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors"
                             "/#redirect-uri-mismatch",
    "incorrect_client_credentials": f"{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token"
                                    "-request-errors/#incorrect-client-credentials",
    "bad_verification_code": f"{DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request"
                             "-errors/#bad-verification-code",
}
ERROR_DESCRIPTIONS = {
    "access_denied": "The user has denied your application access.",
    "redirect_uri_mismatch": "The redirect_uri MUST match the registered callback URL for this application.",
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "bad_verification_code": "The code passed is incorrect or expired.",
}
EMAIL_SCOPES = {"user", "user:email"}


@dataclass
class GitHubUser:
    """A GitHub account. `public_email` is what /user shows (None: kept private); `emails` is /user/emails."""

    login: str
    id: int
    name: str | None
    public_email: str | None = None
    emails: list[dict[str, Any]] = field(default_factory=list)

    def profile(self) -> dict[str, Any]:
        """GET /user, the fields an OAuth app sees (abridged)."""
        return {
            "login": self.login, "id": self.id, "node_id": f"U_{self.id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.id}?v=4",
            "url": f"https://api.github.com/users/{self.login}", "html_url": f"https://github.com/{self.login}",
            "type": "User", "site_admin": False, "name": self.name, "company": None, "blog": "", "location": None,
            "email": self.public_email, "bio": None, "public_repos": 0, "followers": 0, "following": 0,
            "created_at": "2020-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        }


def email_entry(email: str, *, primary: bool = True, verified: bool = True,
                visibility: str | None = "private") -> dict[str, Any]:
    """One item of GET /user/emails."""
    return {"email": email, "primary": primary, "verified": verified, "visibility": visibility}


@dataclass
class Code:
    login: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float = field(default_factory=time.monotonic)

    def is_expired(self) -> bool:
        return time.monotonic() > self.issued_at + CODE_LIFETIME


@dataclass(frozen=True)
class AccessToken:
    login: str
    scopes: frozenset[str]


class FakeGitHub:
    """GitHub's OAuth app endpoints and user API for one registered OAuth app."""

    def __init__(self, client_id: str = "Iv1.contestbell", client_secret: str = "github-secret",
                 redirect_uris: list[str] | None = None) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris = list(redirect_uris or [])  # the app's callback URL(s); tests may append
        self.users: dict[str, GitHubUser] = {}
        self.base_url: str | None = None  # set by running()
        # knobs
        self.auto_login: str | None = None
        self.authorize_error: tuple[str, str | None] | None = None
        self.token_error: str | None = None  # the next access_token request answers this error
        # records
        self.authorize_requests: list[AuthorizeRequest] = []
        self.token_requests: list[TokenRequest] = []
        self.api_requests: list[tuple[str, str | None]] = []  # (path, token)
        # state
        self.codes: dict[str, Code] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self._ids = itertools.count(583231)
        self.app = self.make_app()

    # what tests use

    def user(self, login: str) -> GitHubUser:
        """The account for `login`, made on first use: a private email (public_email None), verified and primary."""
        if login not in self.users:
            self.users[login] = GitHubUser(login, next(self._ids), login.title(),
                                           emails=[email_entry(f"{login}@example.org")])
        return self.users[login]

    def auto_approve(self, login: str | None) -> None:
        """From now on GET /login/oauth/authorize answers at once with a code for `login` (None: show the page)."""
        self.auto_login = login

    def fail_authorize(self, error: str = "access_denied", description: str | None = None) -> None:
        """The next GET /login/oauth/authorize redirects back at once with this error."""
        self.authorize_error = (error, description)

    def allow_redirect_uri(self, redirect_uri: str) -> None:
        if redirect_uri not in self.redirect_uris:
            self.redirect_uris.append(redirect_uri)

    @property
    def last_authorize(self) -> AuthorizeRequest:
        assert self.authorize_requests, "no GET /login/oauth/authorize yet"
        return self.authorize_requests[-1]

    @property
    def last_token(self) -> TokenRequest:
        assert self.token_requests, "no POST /login/oauth/access_token yet"
        return self.token_requests[-1]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 and yield the base URL (both the OAuth and the API base)."""
        server = TestServer(self.app, host="127.0.0.1")
        await server.start_server()
        self.base_url = str(server.make_url("")).rstrip("/")
        try:
            yield self.base_url
        finally:
            await server.close()

    # the server

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/login/oauth/authorize", self.authorize_page)
        app.router.add_post("/login/oauth/authorize", self.authorize_decision)
        app.router.add_post("/login/oauth/access_token", self.access_token)
        app.router.add_get("/user", self.get_user)
        app.router.add_get("/user/emails", self.get_emails)
        return app

    def redirect_allowed(self, redirect_uri: str) -> bool:
        """GitHub accepts the callback URL or a path below it."""
        return any(redirect_uri == registered or redirect_uri.startswith(registered.rstrip("/") + "/")
                   for registered in self.redirect_uris)

    async def authorize_page(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        self.authorize_requests.append(AuthorizeRequest(params))
        if params.get("client_id") != self.client_id:
            return web.Response(status=404, text="Not Found")
        if not self.redirect_uris:
            return web.Response(status=400, text="the OAuth app has no callback URL")
        if params.get("redirect_uri") and not self.redirect_allowed(params["redirect_uri"]):
            return error_redirect(self.redirect_uris[0], "redirect_uri_mismatch", None, params.get("state"))
        if self.authorize_error:
            (error, description), self.authorize_error = self.authorize_error, None
            return error_redirect(self.redirect_of(params), error, description, params.get("state"))
        if self.auto_login is not None:
            return self.approve(params, self.auto_login)
        page = login_page("Sign in to GitHub", "/login/oauth/authorize", params,
                          f"Authorize {self.client_id}: {params.get('scope') or '(no scope)'}")
        return web.Response(text=page, content_type="text/html")

    async def authorize_decision(self, request: web.Request) -> web.Response:
        """The page's form: the original parameters ride along as hidden fields."""
        form = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
        login, decision = form.pop("login", "").strip(), form.pop("decision", "")
        if form.get("client_id") != self.client_id or (form.get("redirect_uri")
                                                       and not self.redirect_allowed(form["redirect_uri"])):
            return web.Response(status=400, text="unknown client or redirect_uri")
        if decision != "allow":
            return error_redirect(self.redirect_of(form), "access_denied", None, form.get("state"))
        if not login:
            return web.Response(status=400, text="login is required")
        return self.approve(form, login)

    def redirect_of(self, params: Mapping[str, str]) -> str:
        return params.get("redirect_uri") or self.redirect_uris[0]

    def approve(self, params: Mapping[str, str], login: str) -> web.Response:
        """Redirect back with a new code (and the state)."""
        self.user(login)
        code = secrets.token_hex(10)
        self.codes[code] = Code(login, self.redirect_of(params), normalized_scope(params.get("scope", "")),
                                params.get("code_challenge"), params.get("code_challenge_method"))
        query = [("code", code)] + ([("state", params["state"])] if params.get("state") else [])
        return redirect(add_params_to_uri(self.redirect_of(params), query))

    async def access_token(self, request: web.Request) -> web.Response:
        params = {**request.query, **await token_params(request)}
        client_id, client_secret, auth_method = client_credentials(request.headers, params)
        record = TokenRequest(params, auth_method, accept=request.headers.get("Accept", ""))
        self.token_requests.append(record)
        record.response = self.token_answer(params, client_id, client_secret)
        return token_response(record.response, record.accept)

    def token_answer(self, params: Mapping[str, str], client_id: str | None, client_secret: str | None
                     ) -> dict[str, Any]:
        if self.token_error:
            error, self.token_error = self.token_error, None
            return error_body(error)
        if client_id != self.client_id or not secrets.compare_digest(client_secret or "", self.client_secret):
            return error_body("incorrect_client_credentials")
        code = self.codes.get(params.get("code", ""))
        if code is None or code.is_expired() or not verifier_matches(code, params.get("code_verifier")):
            return error_body("bad_verification_code")
        if params.get("redirect_uri") and params["redirect_uri"] != code.redirect_uri:
            return error_body("redirect_uri_mismatch")
        del self.codes[params["code"]]
        token = f"gho_{secrets.token_hex(18)}"
        self.access_tokens[token] = AccessToken(code.login, frozenset(filter(None, code.scope.split(","))))
        return {"access_token": token, "token_type": "bearer", "scope": code.scope}

    def authenticated(self, request: web.Request) -> AccessToken | web.Response:
        """The token's grant, or the 401/403 GitHub's API answers."""
        token = api_token(request.headers)
        self.api_requests.append((request.path, token))
        if not request.headers.get("User-Agent"):
            return web.Response(status=403, text="Request forbidden by administrative rules. "
                                                 "Please make sure your request has a User-Agent header")
        if token is None:
            return api_error(401, "Requires authentication", f"{DOCS}/rest/users/users#get-the-authenticated-user")
        if token not in self.access_tokens:
            return api_error(401, "Bad credentials", f"{DOCS}/rest")
        return self.access_tokens[token]

    async def get_user(self, request: web.Request) -> web.Response:
        grant = self.authenticated(request)
        if isinstance(grant, web.Response):
            return grant
        return web.json_response(self.user(grant.login).profile(), headers=scope_headers(grant))

    async def get_emails(self, request: web.Request) -> web.Response:
        """Needs the user:email (or user) scope; without it GitHub answers 404."""
        grant = self.authenticated(request)
        if isinstance(grant, web.Response):
            return grant
        if not grant.scopes & EMAIL_SCOPES:
            return api_error(404, "Not Found", f"{DOCS}/rest/users/emails#list-email-addresses-for-the-"
                                               "authenticated-user")
        return web.json_response(self.user(grant.login).emails, headers=scope_headers(grant))


def normalized_scope(scope: str) -> str:
    """GitHub takes scopes separated by spaces (or commas) and reports them joined by commas."""
    return ",".join(part for part in re.split(r"[\s,]+", scope) if part)


def verifier_matches(code: Code, verifier: str | None) -> bool:
    """PKCE: with a code_challenge (S256) the code_verifier must match it."""
    if not code.code_challenge:
        return True
    if not verifier or (code.code_challenge_method or "plain") != "S256":
        return verifier == code.code_challenge
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == code.code_challenge


async def token_params(request: web.Request) -> dict[str, str]:
    """The body of a token request: a form or JSON."""
    if request.content_type == "application/json":
        body = await request.json()
        return {key: str(value) for key, value in body.items()} if isinstance(body, dict) else {}
    return {key: value for key, value in (await request.post()).items() if isinstance(value, str)}


def client_credentials(headers: Mapping[str, str], params: Mapping[str, str]
                       ) -> tuple[str | None, str | None, str | None]:
    """(client_id, client_secret, how they came): HTTP Basic or the body."""
    scheme, _, encoded = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None, "client_secret_basic"
        return unquote(client_id), unquote(client_secret), "client_secret_basic"
    if params.get("client_secret"):
        return params.get("client_id"), params["client_secret"], "client_secret_post"
    return params.get("client_id"), None, None


def error_body(error: str) -> dict[str, str]:
    return {"error": error, "error_description": ERROR_DESCRIPTIONS.get(error, error),
            "error_uri": ERROR_URIS.get(error, f"{DOCS}/apps/oauth-apps")}


def token_response(body: Mapping[str, Any], accept: str) -> web.Response:
    """JSON when asked for, form-encoded otherwise; status 200 even for errors, as GitHub does."""
    if "application/json" in accept:
        return web.json_response(dict(body))
    return web.Response(text=urlencode(body), content_type="application/x-www-form-urlencoded")


def error_redirect(redirect_uri: str, error: str, description: str | None, state: str | None) -> web.Response:
    query = [("error", error), ("error_description", description or ERROR_DESCRIPTIONS.get(error, error)),
             ("error_uri", ERROR_URIS.get(error, f"{DOCS}/apps/oauth-apps"))]
    query += [("state", state)] if state else []
    return redirect(add_params_to_uri(redirect_uri, query))


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def api_token(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer <token>` or `Authorization: token <token>`."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() in ("bearer", "token") else None


def api_error(status: int, message: str, documentation_url: str) -> web.Response:
    return web.json_response({"message": message, "documentation_url": documentation_url, "status": str(status)},
                             status=status)


def scope_headers(grant: AccessToken) -> dict[str, str]:
    return {"X-OAuth-Scopes": ", ".join(sorted(grant.scopes)), "X-Accepted-OAuth-Scopes": ""}
