"""A real OpenID Connect provider for tests, over real HTTP: authlib's framework-agnostic authorization server
(authorization code grant, PKCE, OpenID Connect id tokens signed with an RSA key) running on aiohttp
(STACK_NOTES section 6).

A test builds `OIDCProvider(client_id, client_secret, redirect_uris)`, serves `provider.app` with
`aiohttp.test_utils.TestServer(provider.app, host="127.0.0.1")` (or `async with provider.running() as base_url`)
and points the app under test at `<base_url>/.well-known/openid-configuration`. `/authorize` shows a plain HTML
login and consent page (`input[name=login]`, `button[name=decision][value=allow|deny]`); `auto_approve(login)`
skips it. Knobs break the next token issued (tampered signature, wrong nonce or audience, expired, invalid_grant)
or the next authorization (`fail_authorize`), and every authorize and token request is recorded."""

from __future__ import annotations

import base64
import html
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from aiohttp.test_utils import TestServer
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

SCOPES = ["openid", "email", "profile"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
CODE_LIFETIME = 600  # seconds, as RFC 6749 recommends
EXPIRED_BY = 3600  # seconds an `expired_id_token` is past its exp


@dataclass(frozen=True)
class User:
    """An account of the provider: any login name is accepted, the claims derive from it."""

    login: str

    @property
    def sub(self) -> str:
        return f"sub-{self.login}"

    @property
    def email(self) -> str:
        return f"{self.login}@example.org"

    @property
    def name(self) -> str:
        return self.login.title()

    def claims(self) -> dict[str, Any]:
        return {"sub": self.sub, "email": self.email, "email_verified": True, "name": self.name,
                "preferred_username": self.login}


@dataclass
class Client(ClientMixin):
    """The one confidential client; tests may append to `redirect_uris` once the app's port is known."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(part for part in (scope or "").split() if part in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    """An authorization code waiting to be exchanged (once)."""

    code: str
    client_id: str
    user: User
    redirect_uri: str | None
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() > self.auth_time + CODE_LIFETIME


@dataclass
class AuthorizeRequest:
    """What a client sent to GET /authorize (all of it in `params`)."""

    params: dict[str, str]

    @property
    def client_id(self) -> str | None:
        return self.params.get("client_id")

    @property
    def redirect_uri(self) -> str | None:
        return self.params.get("redirect_uri")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")

    @property
    def code_challenge(self) -> str | None:
        return self.params.get("code_challenge")

    @property
    def code_challenge_method(self) -> str | None:
        return self.params.get("code_challenge_method")

    @property
    def sent_code_challenge(self) -> bool:
        return bool(self.code_challenge)


@dataclass
class TokenRequest:
    """What a client sent to the token endpoint and what it got back (the fake GitHub's records are these too)."""

    params: dict[str, str]
    auth_method: str | None  # client_secret_basic, client_secret_post or None
    status: int = 0
    accept: str = ""
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        return self.params.get("code")

    @property
    def code_verifier(self) -> str | None:
        return self.params.get("code_verifier")

    @property
    def redirect_uri(self) -> str | None:
        return self.params.get("redirect_uri")


@dataclass(frozen=True)
class IssuedToken:
    user: User
    scope: str
    client_id: str


class AioOAuth2Request(OAuth2Request):
    """An aiohttp request as authlib's server sees it; the form must have been read already."""

    def __init__(self, request: web.Request, query: dict[str, str], form: dict[str, str], issuer: str) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args, self._form = query, form
        self.payload = BasicOAuth2Payload({**query, **form})
        self.issuer = issuer

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Server(AuthorizationServer):
    """authlib's authorization server, answering with aiohttp responses."""

    def __init__(self, provider: OIDCProvider) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.provider = provider
        self.register_grant(CodeGrant, [S256CodeChallenge(required=False), IdToken(provider)])
        self.register_token_generator("default", BearerTokenGenerator(new_access_token))

    def query_client(self, client_id: str) -> Client | None:
        client = self.provider.client
        return client if client_id == client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        issued = IssuedToken(request.user, token.get("scope", ""), request.client.client_id)
        self.provider.access_tokens[token["access_token"]] = issued

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the handlers wrap the aiohttp request themselves (they must await the form first)

    def handle_response(self, status: int, body: Any, headers: Any) -> web.Response:
        text = json.dumps(body) if isinstance(body, dict) else body
        return web.Response(status=status, body=text.encode(), headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals in tests."""


def new_access_token(**_: Any) -> str:
    return secrets.token_urlsafe(32)


class CodeGrant(AuthorizationCodeGrant):
    """The authorization code grant, codes kept in the provider's memory."""

    server: Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.provider.codes[code] = Code(
            code=code, client_id=request.client.client_id, user=request.user, redirect_uri=data.get("redirect_uri"),
            scope=request.scope, nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"))
        if nonce := data.get("nonce"):
            self.server.provider.used_nonces.add(nonce)

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.server.provider.codes.get(code)
        if found and found.client_id == client.client_id and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> User:
        return authorization_code.user


class S256CodeChallenge(CodeChallenge):
    """PKCE with the method the discovery document advertises."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]


class IdToken(OpenIDCode):
    """Signs id tokens with the provider's RSA key and applies its id-token knobs (each one once)."""

    def __init__(self, provider: OIDCProvider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return nonce in self.provider.used_nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.provider.key.kid or ""}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"aud": [client.client_id]}

    def get_compatible_claims(self, request: AioOAuth2Request) -> dict[str, Any]:
        claims = super().get_compatible_claims(request)
        claims["iss"] = request.issuer
        if self.provider.take("wrong_audience"):
            claims["aud"] = ["another-client"]
        if self.provider.take("expired_id_token"):
            claims["iat"] -= 2 * EXPIRED_BY
            claims["exp"] = int(time.time()) - EXPIRED_BY
        return claims

    def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
        claims = super().get_authorization_code_claims(authorization_code)
        if self.provider.take("wrong_nonce"):
            claims["nonce"] = f"wrong-{secrets.token_urlsafe(8)}"
        return claims

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return UserInfo(user.claims()).filter(scope)

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        id_token = super().encode_id_token(token, request)
        return tampered(id_token) if self.provider.take("tamper_id_token") else id_token


def tampered(jws: str) -> str:
    """The same compact JWS with one bit of its signature flipped (still valid base64url)."""
    header, payload, signature = jws.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return ".".join([header, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])


class OIDCProvider:
    """An OpenID Connect provider with one confidential client (client_secret_basic or client_secret_post)."""

    def __init__(self, client_id: str = "contestbell", client_secret: str = "provider-secret",
                 redirect_uris: list[str] | None = None, *, issuer: str | None = None) -> None:
        self.client = Client(client_id, client_secret, list(redirect_uris or []))
        self.issuer = issuer  # None: learnt from each request (scheme://host:port)
        self.key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
        # knobs: each one affects the next token (or authorization) and is then switched off again
        self.tamper_id_token = False
        self.wrong_nonce = False
        self.wrong_audience = False
        self.expired_id_token = False
        self.token_error = False
        self.authorize_error: tuple[str, str | None] | None = None
        self.auto_login: str | None = None
        # records
        self.authorize_requests: list[AuthorizeRequest] = []
        self.token_requests: list[TokenRequest] = []
        self.userinfo_requests: list[str | None] = []  # the bearer token of each call
        # state
        self.codes: dict[str, Code] = {}
        self.used_nonces: set[str] = set()
        self.access_tokens: dict[str, IssuedToken] = {}
        self.server = Server(self)
        self.app = self.make_app()

    # what tests use

    def auto_approve(self, login: str | None) -> None:
        """From now on GET /authorize answers at once with a code for `login` (None: show the page again)."""
        self.auto_login = login

    def fail_authorize(self, error: str = "server_error", description: str | None = None) -> None:
        """The next GET /authorize redirects back at once with this error instead of showing the page."""
        self.authorize_error = (error, description)

    def allow_redirect_uri(self, redirect_uri: str) -> None:
        if redirect_uri not in self.client.redirect_uris:
            self.client.redirect_uris.append(redirect_uri)

    @property
    def last_authorize(self) -> AuthorizeRequest:
        assert self.authorize_requests, "no GET /authorize yet"
        return self.authorize_requests[-1]

    @property
    def last_token(self) -> TokenRequest:
        assert self.token_requests, "no POST /token yet"
        return self.token_requests[-1]

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The discovery document for this issuer."""
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified",
                                 "name", "preferred_username"],
            "authorization_response_iss_parameter_supported": True,
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        """Serve on 127.0.0.1 and yield the base URL (also set as the issuer)."""
        server = TestServer(self.app, host="127.0.0.1")
        await server.start_server()
        self.issuer = str(server.make_url("")).rstrip("/")
        try:
            yield self.issuer
        finally:
            await server.close()

    def take(self, knob: str) -> bool:
        """Read a boolean knob and switch it off: knobs act once."""
        value = bool(getattr(self, knob))
        setattr(self, knob, False)
        return value

    # the server

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/authorize", self.authorize_page)
        app.router.add_post("/authorize", self.authorize_decision)
        app.router.add_post("/token", self.token)
        app.router.add_route("GET", "/userinfo", self.userinfo)
        app.router.add_route("POST", "/userinfo", self.userinfo)
        app.router.add_get("/jwks", self.jwks_document)
        return app

    def issuer_for(self, request: web.Request) -> str:
        return self.issuer or f"{request.scheme}://{request.host}"

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(self.metadata(self.issuer_for(request)))

    async def jwks_document(self, request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

    async def authorize_page(self, request: web.Request) -> web.Response:
        """GET /authorize: record it, then a forced error, an automatic approval or the login page."""
        params = dict(request.query)
        self.authorize_requests.append(AuthorizeRequest(params))
        issuer = self.issuer_for(request)
        oauth_request = AioOAuth2Request(request, params, {}, issuer)
        if self.authorize_error:
            error, description = self.authorize_error
            self.authorize_error = None
            return self.forced_error(oauth_request, error, description)
        if self.auto_login is not None:
            return self.decide(oauth_request, User(self.auto_login))
        try:
            self.server.get_consent_grant(request=oauth_request, end_user=None)
        except OAuth2Error as error:
            return with_issuer(self.server.handle_error_response(oauth_request, error), issuer)
        page = login_page("Sign in to the test provider", "/authorize", params,
                          f"{params.get('client_id')} asks for: {params.get('scope', '')}")
        return web.Response(text=page, content_type="text/html")

    async def authorize_decision(self, request: web.Request) -> web.Response:
        """POST /authorize: the login page's form (the original parameters ride along as hidden fields)."""
        form = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
        login, decision = form.pop("login", "").strip(), form.pop("decision", "")
        if decision == "allow" and not login:
            return web.Response(status=400, text="login is required")
        user = User(login) if decision == "allow" else None
        return self.decide(AioOAuth2Request(request, {}, form, self.issuer_for(request)), user)

    def decide(self, oauth_request: AioOAuth2Request, user: User | None) -> web.Response:
        """Redirect to the client with a code for `user`, or with access_denied when there is no user."""
        try:
            grant = self.server.get_consent_grant(request=oauth_request, end_user=user)
            response = self.server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
        except OAuth2Error as error:
            response = self.server.handle_error_response(oauth_request, error)
        return with_issuer(response, oauth_request.issuer)

    def forced_error(self, oauth_request: AioOAuth2Request, error: str, description: str | None) -> web.Response:
        """Redirect with `error` to the request's redirect URI, if it is one of the client's."""
        data = oauth_request.payload.data
        redirect_uri = data.get("redirect_uri") or self.client.get_default_redirect_uri()
        if data.get("client_id") != self.client.client_id or not self.client.check_redirect_uri(redirect_uri or ""):
            return web.Response(status=400, text="unknown client or redirect_uri")
        failure = OAuth2Error(description=description, state=data.get("state"), redirect_uri=redirect_uri,
                              error=error)
        return with_issuer(self.server.handle_error_response(oauth_request, failure), oauth_request.issuer)

    async def token(self, request: web.Request) -> web.Response:
        form = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
        record = TokenRequest(form, client_auth_method(request.headers, form))
        self.token_requests.append(record)
        if self.take("token_error"):
            response = web.json_response({"error": "invalid_grant", "error_description": "token_error knob"},
                                         status=400)
        else:
            oauth_request = AioOAuth2Request(request, dict(request.query), form, self.issuer_for(request))
            response = self.server.create_token_response(oauth_request)
        record.status, record.response = response.status, json.loads(response.body)
        return response

    async def userinfo(self, request: web.Request) -> web.Response:
        token = bearer_token(request.headers)
        if token is None and request.method == "POST":
            token = str((await request.post()).get("access_token", "")) or None
        self.userinfo_requests.append(token)
        issued = self.access_tokens.get(token or "")
        if issued is None:
            return web.json_response({"error": "invalid_token"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return web.json_response(dict(UserInfo(issued.user.claims()).filter(issued.scope)))


def with_issuer(response: web.Response, issuer: str) -> web.Response:
    """RFC 9207: authorization responses (codes and errors) say who issued them."""
    if location := response.headers.get("Location"):
        response.headers["Location"] = add_params_to_uri(location, [("iss", issuer)])
    return response


def client_auth_method(headers: Mapping[str, str], form: Mapping[str, str]) -> str | None:
    if headers.get("Authorization", "").lower().startswith("basic "):
        return "client_secret_basic"
    if form.get("client_secret"):
        return "client_secret_post"
    return None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def login_page(title: str, action: str, hidden: Mapping[str, str], asks: str) -> str:
    """A plain HTML login and consent form (no script): `login`, then allow or deny."""
    fields = "\n".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
                       for name, value in hidden.items())
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<p>{html.escape(asks)}</p>
<form method="post" action="{html.escape(action)}">
{fields}
<label>Login <input type="text" name="login" autocomplete="username" required></label>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>
</main>
</body>
</html>
"""
