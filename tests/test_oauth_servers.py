"""The test OpenID Connect provider (tests/oidc_provider.py) and the fake GitHub (tests/fake_github.py), driven the
way the app will drive them: authlib's AsyncOAuth2Client with PKCE S256 and a nonce, and joserfc checking the
id token against /jwks. Each knob does what it says, codes are single use, and the HTML pages work in Chromium."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet

from tests.fake_github import FakeGitHub
from tests.oidc_provider import OIDCProvider
from tests.web.browser import chromium, opened

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

pytestmark = pytest.mark.filterwarnings(
    "ignore:The httpx module is deprecated:authlib.deprecate.AuthlibDeprecationWarning")

CLIENT_ID, CLIENT_SECRET = "contestbell", "provider-secret"
GITHUB_ID, GITHUB_SECRET = "Iv1.contestbell", "github-secret"
CALLBACK = "http://127.0.0.1:9/auth/callback"  # never contacted: the tests read the redirect's Location


def oauth_client(client_id: str, client_secret: str, **options: Any) -> AsyncOAuth2Client:
    """authlib's httpx client, imported here so that pytestmark filters its import-time deprecation warning."""
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client(client_id, client_secret, **options)


@dataclass
class Login:
    """A started sign-in, as the app keeps it between the redirect and the callback."""

    url: str
    state: str
    verifier: str
    nonce: str


def start_login(authorization_endpoint: str, client_id: str, client_secret: str, *, scope: str,
                redirect_uri: str = CALLBACK, nonce: bool = True) -> Login:
    verifier, nonce_value = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    client = oauth_client(client_id, client_secret, scope=scope, redirect_uri=redirect_uri,
                          code_challenge_method="S256")
    extra = {"nonce": nonce_value} if nonce else {}
    url, state = client.create_authorization_url(authorization_endpoint, code_verifier=verifier, **extra)
    return Login(url, state, verifier, nonce_value)


async def redirected_to(url: str) -> dict[str, str]:
    """GET the authorization URL and return the query of the redirect (without following it)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


async def exchange(token_endpoint: str, client_id: str, client_secret: str, login: Login, code: str,
                   redirect_uri: str = CALLBACK, **options: Any) -> dict[str, Any]:
    """The app's callback: trade the code (with the PKCE verifier) for tokens."""
    async with oauth_client(client_id, client_secret, redirect_uri=redirect_uri, state=login.state,
                            **options) as client:
        return dict(await client.fetch_token(token_endpoint, code=code, code_verifier=login.verifier))


def verified_claims(id_token: str, jwks: dict[str, Any], *, issuer: str, nonce: str) -> dict[str, Any]:
    """Check the id token as the app will: signature against /jwks, then iss, aud, nonce and exp."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks))
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer}, aud={"essential": True, "value": CLIENT_ID},
                          nonce={"essential": True, "value": nonce}, sub={"essential": True},
                          exp={"essential": True}).validate(token.claims)
    return token.claims


# the OpenID Connect provider


@dataclass
class Provider:
    fake: OIDCProvider
    issuer: str
    meta: dict[str, Any]
    jwks: dict[str, Any]

    def start(self, **options: Any) -> Login:
        return start_login(self.meta["authorization_endpoint"], CLIENT_ID, CLIENT_SECRET,
                           scope="openid email profile", **options)

    async def code_for(self, login: Login) -> str:
        query = await redirected_to(login.url)
        assert query["state"] == login.state
        return query["code"]

    async def tokens(self, login: Login, code: str, **options: Any) -> dict[str, Any]:
        return await exchange(self.meta["token_endpoint"], CLIENT_ID, CLIENT_SECRET, login, code, **options)

    async def sign_in(self, login_name: str, **options: Any) -> tuple[Login, dict[str, Any]]:
        """A whole sign-in with auto_approve; returns the login and the token response."""
        self.fake.auto_approve(login_name)
        login = self.start()
        return login, await self.tokens(login, await self.code_for(login), **options)

    def claims(self, login: Login, token: dict[str, Any]) -> dict[str, Any]:
        return verified_claims(token["id_token"], self.jwks, issuer=self.issuer, nonce=login.nonce)


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    fake = OIDCProvider(CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    async with fake.running() as issuer, httpx.AsyncClient() as http:
        meta = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
        jwks = (await http.get(meta["jwks_uri"])).json()
        yield Provider(fake, issuer, meta, jwks)


async def test_discovery_learns_the_issuer_from_the_request() -> None:
    server = TestServer(OIDCProvider(CLIENT_ID, CLIENT_SECRET, [CALLBACK]).app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        async with httpx.AsyncClient() as http:
            meta = (await http.get(f"{base}/.well-known/openid-configuration")).json()
    finally:
        await server.close()
    assert meta["issuer"] == base
    assert meta["authorization_endpoint"] == f"{base}/authorize"
    assert meta["token_endpoint"] == f"{base}/token"
    assert meta["userinfo_endpoint"] == f"{base}/userinfo"
    assert meta["jwks_uri"] == f"{base}/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_oidc_sign_in_with_pkce_and_nonce(provider: Provider, auth_method: str) -> None:
    provider.fake.auto_approve("alice")
    login = provider.start()
    query = await redirected_to(login.url)
    assert query["state"] == login.state
    assert query["iss"] == provider.issuer

    asked = provider.fake.last_authorize
    assert asked.sent_code_challenge and asked.code_challenge_method == "S256"
    assert (asked.state, asked.nonce, asked.redirect_uri) == (login.state, login.nonce, CALLBACK)
    assert asked.scope == "openid email profile"

    token = await provider.tokens(login, query["code"], token_endpoint_auth_method=auth_method)
    assert provider.fake.last_token.auth_method == auth_method
    assert provider.fake.last_token.code_verifier == login.verifier
    claims = provider.claims(login, token)
    assert claims["sub"] == "sub-alice"
    assert (claims["email"], claims["email_verified"], claims["name"]) == ("alice@example.org", True, "Alice")

    async with oauth_client(CLIENT_ID, CLIENT_SECRET, token=token) as client:
        userinfo = (await client.get(provider.meta["userinfo_endpoint"])).json()
    assert userinfo == {"sub": "sub-alice", "email": "alice@example.org", "email_verified": True, "name": "Alice",
                        "preferred_username": "alice"}


async def test_oidc_code_is_single_use(provider: Provider) -> None:
    provider.fake.auto_approve("alice")
    login = provider.start()
    code = await provider.code_for(login)
    await provider.tokens(login, code)
    with pytest.raises(OAuthError) as replay:
        await provider.tokens(login, code)
    assert replay.value.error == "invalid_grant"
    assert provider.fake.last_token.status == 400


async def test_oidc_wrong_code_verifier_is_invalid_grant(provider: Provider) -> None:
    provider.fake.auto_approve("alice")
    login = provider.start()
    code = await provider.code_for(login)
    with pytest.raises(OAuthError) as failure:
        await provider.tokens(Login(login.url, login.state, secrets.token_urlsafe(48), login.nonce), code)
    assert failure.value.error == "invalid_grant"


async def test_oidc_wrong_client_secret_is_invalid_client(provider: Provider) -> None:
    provider.fake.auto_approve("alice")
    login = provider.start()
    code = await provider.code_for(login)
    with pytest.raises(OAuthError) as failure:
        await exchange(provider.meta["token_endpoint"], CLIENT_ID, "wrong", login, code)
    assert failure.value.error == "invalid_client"


@pytest.mark.parametrize(("knob", "error", "claim"), [
    ("tamper_id_token", BadSignatureError, None),
    ("wrong_nonce", InvalidClaimError, "nonce"),
    ("wrong_audience", InvalidClaimError, "aud"),
    ("expired_id_token", ExpiredTokenError, None),
])
async def test_oidc_id_token_knobs_break_the_next_token_only(provider: Provider, knob: str,
                                                              error: type[JoseError], claim: str | None) -> None:
    setattr(provider.fake, knob, True)
    login, token = await provider.sign_in("mallory")
    with pytest.raises(error) as failure:
        provider.claims(login, token)
    if claim:
        assert failure.value.claim == claim

    login, token = await provider.sign_in("mallory")
    assert provider.claims(login, token)["sub"] == "sub-mallory"


async def test_oidc_token_error_knob(provider: Provider) -> None:
    provider.fake.token_error = True
    provider.fake.auto_approve("alice")
    login = provider.start()
    code = await provider.code_for(login)
    with pytest.raises(OAuthError) as failure:
        await provider.tokens(login, code)
    assert failure.value.error == "invalid_grant"
    assert provider.fake.last_token.status == 400

    token = await provider.tokens(login, code)  # the knob acted once and left the code unused
    assert provider.claims(login, token)["sub"] == "sub-alice"


@pytest.mark.parametrize(("error", "description"), [("server_error", None), ("temporarily_unavailable", "later")])
async def test_oidc_fail_authorize_redirects_with_the_error(provider: Provider, error: str,
                                                            description: str | None) -> None:
    provider.fake.auto_approve("alice")
    provider.fake.fail_authorize(error, description)
    login = provider.start()
    query = await redirected_to(login.url)
    assert query["error"] == error
    assert query.get("error_description") == description
    assert (query["state"], query["iss"]) == (login.state, provider.issuer)
    assert "code" not in query

    assert "code" in await redirected_to(provider.start().url)  # once only


async def test_oidc_login_page_over_plain_http(provider: Provider) -> None:
    login = provider.start()
    async with httpx.AsyncClient() as http:
        page = await http.get(login.url)
        assert page.status_code == 200
        assert 'name="login"' in page.text
        assert 'name="decision" value="allow"' in page.text and 'name="decision" value="deny"' in page.text
        form = dict(provider.fake.last_authorize.params)
        denied = await http.post(provider.meta["authorization_endpoint"], data={**form, "decision": "deny"})
        allowed = await http.post(provider.meta["authorization_endpoint"],
                                  data={**form, "login": "bob", "decision": "allow"})
    denial = dict(parse_qsl(urlsplit(denied.headers["Location"]).query))
    assert (denial["error"], denial["state"], denial["iss"]) == ("access_denied", login.state, provider.issuer)
    code = dict(parse_qsl(urlsplit(allowed.headers["Location"]).query))["code"]
    token = await provider.tokens(login, code)
    assert provider.claims(login, token)["sub"] == "sub-bob"


async def test_oidc_refuses_an_unregistered_redirect_uri(provider: Provider) -> None:
    provider.fake.auto_approve("alice")
    login = provider.start(redirect_uri="http://127.0.0.1:9/elsewhere")
    async with httpx.AsyncClient() as http:
        response = await http.get(login.url)
    assert response.status_code == 400
    assert "Location" not in response.headers


async def test_oidc_userinfo_needs_a_valid_token(provider: Provider) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.get(provider.meta["userinfo_endpoint"])
        wrong = await http.get(provider.meta["userinfo_endpoint"], headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401


# the fake GitHub


@dataclass
class GitHub:
    fake: FakeGitHub
    base: str

    def start(self, scope: str = "read:user user:email") -> Login:
        return start_login(f"{self.base}/login/oauth/authorize", GITHUB_ID, GITHUB_SECRET, scope=scope,
                           nonce=False)

    async def tokens(self, login: Login, code: str) -> dict[str, Any]:
        return await exchange(f"{self.base}/login/oauth/access_token", GITHUB_ID, GITHUB_SECRET, login, code)

    async def sign_in(self, login_name: str, scope: str = "read:user user:email") -> dict[str, Any]:
        self.fake.auto_approve(login_name)
        login = self.start(scope)
        query = await redirected_to(login.url)
        assert query["state"] == login.state
        return await self.tokens(login, query["code"])


@pytest.fixture
async def github() -> AsyncIterator[GitHub]:
    fake = FakeGitHub(GITHUB_ID, GITHUB_SECRET, [CALLBACK])
    async with fake.running() as base:
        yield GitHub(fake, base)


async def test_github_sign_in_with_pkce(github: GitHub) -> None:
    token = await github.sign_in("octocat")
    assert github.fake.last_authorize.code_challenge_method == "S256"
    assert github.fake.last_token.code_verifier
    assert (token["token_type"], token["scope"]) == ("bearer", "read:user,user:email")
    assert token["access_token"].startswith("gho_")

    async with oauth_client(GITHUB_ID, GITHUB_SECRET, token=token) as client:
        user = (await client.get(f"{github.base}/user")).json()
        emails = (await client.get(f"{github.base}/user/emails")).json()
    assert (user["id"], user["login"], user["name"], user["email"]) == (github.fake.user("octocat").id, "octocat",
                                                                        "Octocat", None)
    assert emails == [{"email": "octocat@example.org", "primary": True, "verified": True, "visibility": "private"}]


async def test_github_shows_a_public_email_and_takes_the_token_scheme(github: GitHub) -> None:
    github.fake.user("hubot").public_email = "hubot@example.com"
    token = await github.sign_in("hubot")
    async with httpx.AsyncClient() as http:
        user = await http.get(f"{github.base}/user", headers={"Authorization": f"token {token['access_token']}"})
    assert user.json()["email"] == "hubot@example.com"


async def test_github_answers_form_encoded_unless_json_is_accepted(github: GitHub) -> None:
    github.fake.auto_approve("octocat")
    logins = [github.start() for _ in range(2)]
    bodies = [{"client_id": GITHUB_ID, "client_secret": GITHUB_SECRET, "redirect_uri": CALLBACK,
               "code": (await redirected_to(login.url))["code"], "code_verifier": login.verifier} for login in logins]
    async with httpx.AsyncClient() as http:
        form = await http.post(f"{github.base}/login/oauth/access_token", data=bodies[0])
        as_json = await http.post(f"{github.base}/login/oauth/access_token", json=bodies[1],
                                  headers={"Accept": "application/json"})
    assert form.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert dict(parse_qsl(form.text))["token_type"] == "bearer"
    assert as_json.json()["access_token"].startswith("gho_")
    assert github.fake.last_token.auth_method == "client_secret_post"


@pytest.mark.parametrize("mistake", ["replayed code", "wrong verifier", "unknown code"])
async def test_github_bad_verification_code_comes_with_status_200(github: GitHub, mistake: str) -> None:
    github.fake.auto_approve("octocat")
    login = github.start()
    code = (await redirected_to(login.url))["code"]
    if mistake == "replayed code":
        await github.tokens(login, code)
    elif mistake == "wrong verifier":
        login = Login(login.url, login.state, secrets.token_urlsafe(48), login.nonce)
    else:
        code = "not-a-code"
    with pytest.raises(OAuthError) as failure:
        await github.tokens(login, code)
    assert failure.value.error == "bad_verification_code"
    assert github.fake.last_token.response["error"] == "bad_verification_code"


async def test_github_token_error_knob_and_wrong_secret(github: GitHub) -> None:
    github.fake.auto_approve("octocat")
    login = github.start()
    code = (await redirected_to(login.url))["code"]
    github.fake.token_error = "redirect_uri_mismatch"
    with pytest.raises(OAuthError) as knob:
        await github.tokens(login, code)
    with pytest.raises(OAuthError) as secret:
        await exchange(f"{github.base}/login/oauth/access_token", GITHUB_ID, "wrong", login, code)
    assert (knob.value.error, secret.value.error) == ("redirect_uri_mismatch", "incorrect_client_credentials")
    assert (await github.tokens(login, code))["access_token"]


async def test_github_api_needs_a_valid_token_and_the_email_scope(github: GitHub) -> None:
    token = await github.sign_in("octocat", scope="read:user")
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(f"{github.base}/user")
        wrong = await http.get(f"{github.base}/user", headers={"Authorization": "Bearer gho_nope"})
        emails = await http.get(f"{github.base}/user/emails",
                                headers={"Authorization": f"Bearer {token['access_token']}"})
    assert (anonymous.status_code, anonymous.json()["message"]) == (401, "Requires authentication")
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
    assert (emails.status_code, emails.json()["message"]) == (404, "Not Found")


async def test_github_deny_and_redirect_mismatch(github: GitHub) -> None:
    login = github.start()
    async with httpx.AsyncClient() as http:
        page = await http.get(login.url)
        assert 'name="login"' in page.text
        denied = await http.post(f"{github.base}/login/oauth/authorize",
                                 data={**github.fake.last_authorize.params, "decision": "deny"})
    denial = dict(parse_qsl(urlsplit(denied.headers["Location"]).query))
    assert (denial["error"], denial["state"]) == ("access_denied", login.state)
    assert denial["error_description"] == "The user has denied your application access."

    mismatch = await redirected_to(github.start().url.replace("auth%2Fcallback", "other"))
    assert mismatch["error"] == "redirect_uri_mismatch"


# in a browser


@dataclass
class Callback:
    """The app's redirect URI: records each query it receives."""

    received: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(dict(request.query))
        return web.Response(text="signed in")


@pytest.fixture
async def callback() -> AsyncIterator[Callback]:
    recorder = Callback()
    app = web.Application()
    app.router.add_get("/auth/callback", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    recorder.url = str(server.make_url("/auth/callback"))
    try:
        yield recorder
    finally:
        await server.close()


async def click_through(url: str, decision: str, callback: Callback) -> dict[str, str]:
    """Open the page without JavaScript, sign in as carol, press the button and land on the callback."""
    async with chromium() as browser, opened(browser, url, javascript=False) as page:
        await page.fill("input[name=login]", "carol")
        await page.click(f"button[name=decision][value={decision}]")
        await page.wait_for_url(f"{callback.url}**")
    assert len(callback.received) == 1
    return callback.received[0]


@pytest.mark.parametrize("decision", ["allow", "deny"])
async def test_oidc_login_page_in_a_browser(provider: Provider, callback: Callback, decision: str) -> None:
    provider.fake.allow_redirect_uri(callback.url)
    login = provider.start(redirect_uri=callback.url)
    query = await click_through(login.url, decision, callback)
    assert query["state"] == login.state
    if decision == "deny":
        assert query["error"] == "access_denied"
        return
    token = await exchange(provider.meta["token_endpoint"], CLIENT_ID, CLIENT_SECRET, login, query["code"],
                           redirect_uri=callback.url)
    assert provider.claims(login, token)["sub"] == "sub-carol"


async def test_github_login_page_in_a_browser(github: GitHub, callback: Callback) -> None:
    github.fake.allow_redirect_uri(callback.url)
    login = start_login(f"{github.base}/login/oauth/authorize", GITHUB_ID, GITHUB_SECRET, scope="read:user",
                        redirect_uri=callback.url, nonce=False)
    query = await click_through(login.url, "allow", callback)
    assert query["state"] == login.state
    token = await exchange(f"{github.base}/login/oauth/access_token", GITHUB_ID, GITHUB_SECRET, login,
                           query["code"], redirect_uri=callback.url)
    async with oauth_client(GITHUB_ID, GITHUB_SECRET, token=token) as client:
        assert (await client.get(f"{github.base}/user")).json()["login"] == "carol"
