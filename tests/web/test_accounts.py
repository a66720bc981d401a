"""Accounts on the web (issue 10): signing in with a real OpenID Connect provider and a fake GitHub over HTTP,
sessions and CSRF, the Telegram Login Widget, one account with many ways in (linking both ways, with a merge),
the account page's settings with the bot's rules, /api/v1/me, and forgetting an account."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer
from selectolax.lexbor import LexborHTMLParser

from models.account import Account, CalendarAlias, Delivery, LinkToken, OAuthIdentity, TelegramChat
from models.contest import Contest
from tests.bot.updates import callback, private_message
from tests.catalog import UNLISTED, fill_catalog
from tests.fake_telegram import TOKEN
from tests.web.accounts import AccountsSite, accounts_site, csrf_of, sign_in_with_oidc
from web.app import Accounts, make_web_app
from web.signin import SignInOptions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CHAT = 424242


@pytest.fixture
async def site(db) -> AsyncIterator[AccountsSite]:
    async with accounts_site() as site:
        yield site


async def account_of_identity(provider: str, subject: str) -> Account:
    return await Account.get(oauth_identities__provider=provider, oauth_identities__subject=subject)


# signing in


async def test_oidc_sign_in_end_to_end_with_state_nonce_and_pkce(site):
    async with site.browser() as browser:
        response = await sign_in_with_oidc(site, browser, "ann")
        page = await response.text()
        assert response.status == 200 and str(response.url).endswith("/account"), page[:500]
        assert "Your account" in page and "ann@example.org" in page
        asked = site.provider.last_authorize
        assert asked.code_challenge_method == "S256" and asked.code_challenge and asked.nonce and asked.state
        assert asked.redirect_uri == f"{site.base}/auth/oidc/callback" and "openid" in asked.scope
        me = await (await browser.get("/api/v1/me")).json()
    account = await account_of_identity("oidc", "sub-ann")
    assert me["id"] == account.id and me["identities"] == [
        {"provider": "oidc", "subject": "sub-ann", "email": "ann@example.org"}]


async def test_github_sign_in_end_to_end(site):
    site.github.auto_approve("octocat")
    async with site.browser() as browser:
        response = await browser.get("/login/github")
        assert response.status == 200 and str(response.url).endswith("/account")
    identity = await OAuthIdentity.get(provider="github")
    assert identity.subject == str(site.github.user("octocat").id) and identity.email == "octocat@example.org"
    assert site.github.last_authorize.params.get("code_challenge_method") == "S256"


async def test_the_session_is_new_at_sign_in_and_the_cookie_has_its_flags(site):
    async with site.browser() as browser:
        first = await browser.get("/login")
        before = first.cookies["contestbell_session"].value
        flags = first.headers["Set-Cookie"].lower()
        assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags
        after = (await sign_in_with_oidc(site, browser, "ann")).history[-1].cookies["contestbell_session"].value
        assert after != before


async def test_the_cookie_is_secure_when_the_public_address_is_https(db):
    async with accounts_site(secure=True) as site, site.browser() as browser:
        response = await browser.get("/login")
        assert "secure" in response.headers["Set-Cookie"].lower()


async def start_and_catch_callback(site: AccountsSite, browser) -> str:
    """Start an OIDC login and return the provider's redirect back to us, without following it."""
    site.provider.auto_approve("ann")
    start = await browser.get("/login/oidc", allow_redirects=False)
    to_provider = start.headers["Location"]
    back = await browser.get(to_provider, allow_redirects=False)
    return back.headers["Location"]


@pytest.mark.parametrize(("knob", "words"), [
    ("wrong_nonce", "could not be verified"), ("tamper_id_token", "could not be verified"),
    ("wrong_audience", "could not be verified"), ("expired_id_token", "could not be verified"),
    ("token_error", "did not confirm"),
])
async def test_a_bad_id_token_or_a_refused_code_is_a_400_and_nobody_is_signed_in(site, knob, words):
    setattr(site.provider, knob, True)
    async with site.browser() as browser:
        response = await sign_in_with_oidc(site, browser, "ann")
        assert response.status == 400 and words in await response.text()
        assert (await browser.get("/api/v1/me")).status == 401
    assert not await OAuthIdentity.exists()


async def test_a_forged_or_replayed_state_is_a_400(site):
    async with site.browser() as browser:
        callback_url = await start_and_catch_callback(site, browser)
        parts = urlsplit(callback_url)
        query = parse_qs(parts.query)
        forged = f"{parts.path}?{urlencode({'code': query['code'][0], 'state': 'forged-state'})}"
        assert (await browser.get(forged)).status == 400
        assert (await browser.get(callback_url, allow_redirects=False)).status == 303  # the real one works once...
        replay = await browser.get(callback_url)
        assert replay.status == 400 and "not valid" in await replay.text()  # ...and only once
    async with site.browser() as stranger:  # a state from another browser's session is forged to this one
        callback_url = await start_and_catch_callback(site, stranger)
    async with site.browser() as victim:
        assert (await victim.get(callback_url)).status == 400


async def test_a_denied_consent_or_a_provider_error_is_a_400_that_says_so(site):
    async with site.browser() as browser:
        site.provider.fail_authorize("access_denied")
        denied = await browser.get("/login/oidc")
        assert denied.status == 400 and "did not allow" in await denied.text()
        site.provider.fail_authorize("server_error")
        failed = await browser.get("/login/oidc?lang=ru")
        assert failed.status == 400 and "server_error" in await failed.text()
        site.github.fail_authorize("access_denied")
        assert (await browser.get("/login/github")).status == 400


async def test_login_lists_what_is_configured_and_says_how_otherwise(site, db):
    async with site.browser() as browser:
        page = await (await browser.get("/login")).text()
        assert "Sign in with Example ID" in page and "Sign in with GitHub" in page
        assert f'data-telegram-login="{"simrsjsonbot"}"' in page
        csp = (await browser.get("/login")).headers["Content-Security-Policy"]
        assert "https://telegram.org" in csp and "'unsafe-inline'" not in csp
    from aiohttp.test_utils import TestClient

    async with TestClient(TestServer(make_web_app(), host="127.0.0.1")) as bare:
        page = await (await bare.get("/login")).text()
    assert "not set up" in page and "CONTESTBELL_OIDC_ISSUER" in page and "Sign in with" not in page


async def test_next_never_leaves_the_site(site):
    site.provider.auto_approve("ann")
    async with site.browser() as browser:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            response = await browser.get("/login/oidc?" + urlencode({"next": target}))
            assert urlsplit(str(response.url)).path == "/account", target


# the Telegram Login Widget


def widget_payload(user_id: int, auth_date: int, **extra: str) -> dict[str, str]:
    payload = {"id": str(user_id), "first_name": "Ann", "username": "ann", "auth_date": str(auth_date), **extra}
    check = "\n".join(f"{k}={v}" for k, v in sorted(payload.items()))
    payload["hash"] = hmac.new(hashlib.sha256(TOKEN.encode()).digest(), check.encode(), hashlib.sha256).hexdigest()
    return payload


async def test_the_login_widget_signs_in_the_private_chats_account(site):
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)
    chat_account = (await TelegramChat.get(chat_id=CHAT)).account_id
    async with site.browser() as browser:
        response = await browser.get("/auth/telegram/callback?" + urlencode(widget_payload(CHAT, int(time.time()))))
        assert response.status == 200 and str(response.url).endswith("/account")
        assert (await (await browser.get("/api/v1/me")).json())["id"] == chat_account


@pytest.mark.parametrize("spoil", ["hash", "old", "id"])
async def test_a_forged_or_old_widget_payload_is_a_400(site, spoil):
    payload = widget_payload(CHAT, int(time.time()) - (2 * 86400 if spoil == "old" else 0))
    if spoil == "hash":
        payload["hash"] = "0" * 64
    if spoil == "id":
        payload["id"] = str(CHAT + 1)  # signed for another person
    async with site.browser() as browser:
        response = await browser.get("/auth/telegram/callback?" + urlencode(payload))
        assert response.status == 400 and (await browser.get("/api/v1/me")).status == 401


# one account, many ways in


def link_token_in(text: str) -> str:
    return re.search(r"start=([A-Za-z0-9_-]{32})", text).group(1)


async def test_web_to_telegram_links_the_chat_and_merges_into_the_older_account(site):
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)  # the chat's own account, older
    await site.bot_reply(private_message("/timezone Asia/Tokyo", user_id=CHAT), CHAT)
    chat_account = await Account.get(telegram_chats__chat_id=CHAT)
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        web_account = await account_of_identity("oidc", "sub-ann")
        token = link_token_in(await (await browser.get("/account")).text())
        reply = await site.bot_reply(private_message(f"/start {token}", user_id=CHAT), CHAT)
        assert "connected to your web account" in reply
        me = await (await browser.get("/api/v1/me")).json()
    assert me["id"] == chat_account.id and me["timezone"] == "Asia/Tokyo"  # the older settings are kept
    assert [c["chat_id"] for c in me["telegram"]] == [CHAT] and me["identities"][0]["subject"] == "sub-ann"
    assert not await Account.exists(id=web_account.id)
    replay = await site.bot_reply(private_message(f"/start {token}", user_id=CHAT), CHAT)
    assert "not valid any more" in replay


async def test_an_expired_link_token_is_refused(site):
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        token = link_token_in(await (await browser.get("/account")).text())
    await LinkToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    reply = await site.bot_reply(private_message(f"/start {token}", user_id=CHAT), CHAT)
    assert "not valid any more" in reply
    assert (await TelegramChat.get(chat_id=CHAT)).account_id != (await account_of_identity("oidc", "sub-ann")).id


async def test_telegram_to_web_signs_in_once_and_merges_with_the_signed_in_account(site):
    reply = await site.bot_reply(private_message("/link", user_id=CHAT), CHAT)
    address = re.search(r"(http://\S+/link/[A-Za-z0-9_-]{32})", reply).group(1)
    chat_account = await Account.get(telegram_chats__chat_id=CHAT)
    start = datetime.now(UTC) + timedelta(days=1)
    contest = await Contest.create(site_id="codeforces", key="9", title="Round", url="https://codeforces.com",
                                   start=start, end=start + timedelta(hours=2), duration=7200)
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "bob")  # a newer account, reminded of the same contest
        web_account = await account_of_identity("oidc", "sub-bob")
        for account in (chat_account, web_account):
            await Delivery.create(account=account, contest=contest, channel="telegram", kind="reminder",
                                  offset_seconds=3600, contest_start=start, due_at=start, status="sent")
        web_feed = await web_account.calendar_feed_token()
        chat_feed = await chat_account.calendar_feed_token()
        page = await browser.get(urlsplit(address).path)
        assert page.status == 200 and "<form" in await page.text()  # opening it only asks
        csrf = await csrf_of(browser, urlsplit(address).path)
        signed = await browser.post(urlsplit(address).path, data={"csrf": csrf})
        assert signed.status == 200 and str(signed.url).endswith("/account")
        me = await (await browser.get("/api/v1/me")).json()
        again = await browser.post(urlsplit(address).path, data={"csrf": await csrf_of(browser)})
        assert again.status == 400 and "not valid any more" in await again.text()
        for token in (web_feed, chat_feed):  # no feed address stops working
            assert (await browser.get(f"/calendar/{token}.ics")).status == 200
    assert me["id"] == chat_account.id and me["identities"][0]["subject"] == "sub-bob"
    assert await Delivery.filter(account_id=chat_account.id).count() == 1  # reminded once, not twice
    assert await CalendarAlias.filter(account_id=chat_account.id, token=web_feed).exists()


async def test_signing_in_with_an_identity_of_another_account_merges_them(site):
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
    first = await account_of_identity("oidc", "sub-ann")
    site.github.auto_approve("ann-on-github")
    async with site.browser() as browser:
        await browser.get("/login/github")
        await sign_in_with_oidc(site, browser, "ann")
        me = await (await browser.get("/api/v1/me")).json()
    assert me["id"] == first.id and {i["provider"] for i in me["identities"]} == {"oidc", "github"}


async def test_unlinking_the_last_way_in_is_refused(site):
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        identity = await OAuthIdentity.get(subject="sub-ann")
        response = await browser.post("/account/unlink", data={
            "csrf": await csrf_of(browser), "kind": "identity", "id": str(identity.id)})
        assert "last way into your account" in await response.text()
        assert await OAuthIdentity.exists(id=identity.id)
        site.github.auto_approve("ann-gh")
        await browser.get("/login/github")
        response = await browser.post("/account/unlink", data={
            "csrf": await csrf_of(browser), "kind": "identity", "id": str(identity.id)})
        assert "Unlinked" in await response.text() and not await OAuthIdentity.exists(id=identity.id)


# forms, CSRF, settings


async def test_forms_without_the_sessions_csrf_token_are_refused(site):
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        for path, data in (("/account", {"timezone": "Asia/Tokyo"}), ("/account/delete", {"confirm": "yes"}),
                           ("/logout", {}), ("/account/calendar/reset", {})):
            for csrf in (None, "forged"):
                sent = {**data, **({"csrf": csrf} if csrf else {})}
                assert (await browser.post(path, data=sent)).status == 403, (path, csrf)
        assert (await browser.get("/api/v1/me")).status == 200
    account = await account_of_identity("oidc", "sub-ann")
    assert account.timezone == "UTC"


SETTINGS = {"timezone": "Europe/Berlin", "language": "ru", "sites": ["atcoder", "codeforces"],
            "reminders": "1d 10m", "include": "div. 2, educational", "exclude": "kotlin",
            "min_duration": "30m", "max_duration": "5h"}


async def test_the_settings_form_saves_what_the_bot_then_shows(site):
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)
    async with site.browser() as browser:
        await browser.get("/auth/telegram/callback?" + urlencode(widget_payload(CHAT, int(time.time()))))
        saved = await browser.post("/account", data={**SETTINGS, "csrf": await csrf_of(browser)})
        assert saved.status == 200 and "Saved" in await saved.text()
        me = await (await browser.get("/api/v1/me")).json()
    assert (me["timezone"], me["language"], me["sites"], me["reminders"]) == (
        "Europe/Berlin", "ru", ["atcoder", "codeforces"], [86400, 600])
    assert (me["include"], me["exclude"], me["min_duration"], me["max_duration"]) == (
        ["div. 2", "educational"], ["kotlin"], 1800, 18000)
    shown = await site.bot_reply(private_message("/settings", user_id=CHAT), CHAT)
    assert "Часовой пояс: Берлин (UTC+" in shown and "AtCoder" in shown


@pytest.mark.parametrize(("field", "value", "command"), [
    ("reminders", "5x", "/remind 5x"), ("timezone", "Mars/Olympus", "/timezone Mars/Olympus"),
    ("max_duration", "0m", "/filter max 0m"),
])
async def test_a_value_the_bot_refuses_the_form_refuses_with_the_same_message(site, field, value, command):
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)
    bot_says = await site.bot_reply(private_message(command, user_id=CHAT), CHAT)
    async with site.browser() as browser:
        await browser.get("/auth/telegram/callback?" + urlencode(widget_payload(CHAT, int(time.time()))))
        refused = await browser.post("/account", data={**SETTINGS, field: value, "csrf": await csrf_of(browser)})
        page = await refused.text()
    assert refused.status == 400
    problem = re.search(rf'id="{field}-problem">([^<]+)<', page).group(1)
    assert html.unescape(problem) in html.unescape(bot_says), (problem, bot_says)
    assert (await Account.get(telegram_chats__chat_id=CHAT)).timezone == "UTC"


async def test_the_form_offers_sixty_sites_in_groups_and_takes_only_listed_ones(site):
    await fill_catalog(60)
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)
    async with site.browser() as browser:
        await browser.get("/auth/telegram/callback?" + urlencode(widget_payload(CHAT, int(time.time()))))
        form = LexborHTMLParser(await (await browser.get("/account")).text())
        groups = form.css("[data-site-picker] fieldset.site-group")
        offered = [[box.attributes["value"] for box in group.css("input[name=sites]")] for group in groups]
        assert offered[0] == ["codeforces", "atcoder", "leetcode", "codechef"] and len(offered[1]) == 56
        assert UNLISTED not in offered[1]
        saved = await browser.post("/account", data={**SETTINGS, "sites": ["toph", "kaggle"],
                                                     "csrf": await csrf_of(browser)})
        assert saved.status == 200
        refused = await browser.post("/account", data={**SETTINGS, "sites": ["toph", UNLISTED, "kagle"],
                                                       "csrf": await csrf_of(browser)})
        page = html.unescape(await refused.text())
    assert refused.status == 400
    assert f"Not a site: “{UNLISTED}”, “kagle”. Did you mean kaggle?" in page
    assert (await Account.get(telegram_chats__chat_id=CHAT)).sites == ["toph", "kaggle"]


# /api/v1/me, forgetting


async def test_me_needs_a_session(site):
    async with site.browser() as browser:
        response = await browser.get("/api/v1/me")
        assert response.status == 401 and (await response.json())["error"]["message"]


async def test_delete_on_the_web_forgets_everything(site):
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        account = await account_of_identity("oidc", "sub-ann")
        feed = await account.calendar_feed_token()
        unconfirmed = await browser.post("/account/delete", data={"csrf": await csrf_of(browser)})
        assert "Tick the box" in await unconfirmed.text() and await Account.exists(id=account.id)
        await browser.post("/account/delete", data={"csrf": await csrf_of(browser), "confirm": "yes"})
        assert (await browser.get("/api/v1/me")).status == 401
        assert (await browser.get(f"/calendar/{feed}.ics")).status == 404
    assert not await Account.exists(id=account.id) and not await OAuthIdentity.exists()


async def test_forget_in_the_bot_asks_then_forgets_the_chat(site):
    await site.bot_reply(private_message("/start", user_id=CHAT), CHAT)
    account = await Account.get(telegram_chats__chat_id=CHAT)
    feed = await account.calendar_feed_token()
    question = await site.bot_reply(private_message("/forget", user_id=CHAT), CHAT)
    assert "cannot be undone" in question
    assert await site.post_update(callback("forget:no", chat_id=CHAT, user_id=CHAT)) == 200
    await site.telegram.wait_for("answerCallbackQuery")
    assert await Account.exists(id=account.id)
    assert await site.post_update(callback("forget:yes", chat_id=CHAT, user_id=CHAT)) == 200
    await site.telegram.wait_for("answerCallbackQuery", count=2)
    assert not await Account.exists(id=account.id) and not await TelegramChat.exists(chat_id=CHAT)
    async with site.browser() as browser:
        assert (await browser.get(f"/calendar/{feed}.ics")).status == 404


async def test_a_token_works_only_for_its_own_side(site):
    """A /link address (made in the chat, for the web) is no /start token, and a "Connect Telegram" token is no
    sign-in address: each side's proof only opens the other side."""
    reply = await site.bot_reply(private_message("/link", user_id=CHAT), CHAT)
    web_token = re.search(r"/link/([A-Za-z0-9_-]{32})", reply).group(1)
    answer = await site.bot_reply(private_message(f"/start {web_token}", user_id=CHAT + 1), CHAT + 1)
    assert "not valid any more" in answer
    async with site.browser() as browser:
        await sign_in_with_oidc(site, browser, "ann")
        telegram_token = link_token_in(await (await browser.get("/account")).text())
    async with site.browser() as stranger:
        refused = await stranger.post(f"/link/{telegram_token}",
                                      data={"csrf": await csrf_of(stranger, f"/link/{telegram_token}")})
        assert refused.status == 400 and (await stranger.get("/api/v1/me")).status == 401


async def test_adding_an_address_on_the_account_page_mails_its_confirmation(db):
    from notify.addresses import Mailer
    from notify.i18n import make_i18n
    from tests.notify.test_email import running_inbox

    with running_inbox() as inbox:
        mailer = Mailer(inbox.sender(timeout=3.0), make_i18n(), "https://bell.example.org")
        async with accounts_site(mailer=mailer) as site, site.browser() as browser:
            await sign_in_with_oidc(site, browser, "ann")
            added = await browser.post("/account/email", data={"csrf": await csrf_of(browser),
                                                               "address": "Ann.Second@Example.org"})
            assert "A confirmation link went to ann.second@example.org" in await added.text()
            [letter] = await inbox.wait_for(1)
            bad = await browser.post("/account/email", data={"csrf": await csrf_of(browser), "address": "nope"})
            assert "does not look like an email address" in await bad.text()
    assert letter["To"] == "ann.second@example.org" and "/email/verify/" in letter.get_body(("plain",)).get_content()


async def test_with_redis_every_web_process_shares_the_sessions(db, redis_url):
    """Sessions live in Redis when it is configured: a second web process reads the session the first made (a
    browser sends the same cookie to both behind nginx)."""
    other_redis = aioredis.Redis.from_url(redis_url)
    other = TestServer(make_web_app(accounts=Accounts(None, other_redis, SignInOptions())), host="127.0.0.1")
    await other.start_server()
    try:
        async with accounts_site(redis=aioredis.Redis.from_url(redis_url)) as site, site.browser() as browser:
            await sign_in_with_oidc(site, browser, "ann")
            assert [key async for key in other_redis.scan_iter("contestbell_session_*")]
            seen = await browser.get(str(other.make_url("/api/v1/me")))
            assert seen.status == 200 and (await seen.json())["identities"][0]["subject"] == "sub-ann"
    finally:
        await other.close()
        await other_redis.aclose()
