"""`contestbell check` (issue 13, item 8) as an operator runs it, against real servers: the database, Redis, an SMTP
server (aiosmtpd, with and without AUTH), the fake Telegram Bot API and the test OpenID Connect provider. One line
per check, exit status 0 when all pass and 1 otherwise; secrets are never printed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import TEST_DB
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.oidc_provider import OIDCProvider
from tests.processes import contestbell, contestbell_env, free_port

SMTP_USER, SMTP_PASSWORD = "bell", "smtp-Pa55word"
OIDC_SECRET = "provider-Secret-42"


class Mailbox:
    """A real SMTP server on loopback that answers EHLO and, when it has a password, AUTH (without TLS: a test)."""

    def __init__(self, password: str | None) -> None:
        self.password = password
        self.logins: list[tuple[str, bool]] = []
        self.port = free_port()
        options = {"auth_require_tls": False, "authenticator": self.authenticate} if password else {}
        self.controller = Controller(object(), hostname="127.0.0.1", port=self.port, **options)

    def authenticate(self, server, session, envelope, mechanism: str, auth_data: LoginPassword) -> AuthResult:
        ok = auth_data.login.decode() == SMTP_USER and auth_data.password.decode() == self.password
        self.logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535 itself


@contextmanager
def mailbox(password: str | None = None) -> Iterator[Mailbox]:
    box = Mailbox(password)
    box.controller.start()
    try:
        yield box
    finally:
        box.controller.stop()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that takes connections and never says a word (an SMTP server that hangs)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@asynccontextmanager
async def telegram() -> AsyncIterator[str]:
    async with TestServer(FakeTelegram().app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


async def check(**settings: str) -> subprocess.CompletedProcess[str]:
    """`contestbell check` in a process of its own (the servers above answer from this test's loop meanwhile)."""
    result = await asyncio.to_thread(contestbell, "check", env=contestbell_env(**settings), timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def lines_of(result: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """name -> (status, detail) for each line `ok   name  detail`."""
    found = {}
    for line in result.stdout.splitlines():
        status, name, detail = line.split(maxsplit=2)
        found[name] = (status, detail)
    return found


async def test_everything_configured_and_reachable_passes(db, redis_url, tmp_path):
    provider = OIDCProvider(client_secret=OIDC_SECRET)
    with mailbox(SMTP_PASSWORD) as box:
        async with telegram() as api, provider.running() as issuer:
            result = await check(database_url=db, redis_url=redis_url, data_dir=str(tmp_path),
                                 smtp_host="127.0.0.1", smtp_port=str(box.port), smtp_user=SMTP_USER,
                                 smtp_password=SMTP_PASSWORD, smtp_starttls="false",
                                 telegram_token=TOKEN, telegram_api_base=api,
                                 oidc_issuer=issuer, oidc_client_id="contestbell", oidc_client_secret=OIDC_SECRET)
    assert result.returncode == 0, result.stdout
    lines = lines_of(result)
    assert list(lines) == ["settings", "database", "redis", "smtp", "telegram", "oidc"]
    assert {status for status, _ in lines.values()} == {"ok"}
    assert ("PostgreSQL" if TEST_DB == "postgres" else "SQLite") in lines["database"][1]
    assert "migrated" in lines["database"][1]
    assert lines["redis"][1].startswith(redis_url + " (Redis ")
    assert lines["smtp"][1] == f"127.0.0.1:{box.port} (no TLS, logged in as {SMTP_USER})"
    assert lines["telegram"][1].startswith("@simrsjsonbot (id ")
    assert lines["oidc"][1] == f"{issuer} (discovery document read)"
    assert box.logins == [(SMTP_USER, True)]
    for secret in (SMTP_PASSWORD, TOKEN, OIDC_SECRET):
        assert secret not in result.stdout + result.stderr


async def test_nothing_configured_is_off_and_passes(tmp_path):
    result = await check(database_url=f"sqlite://{tmp_path}/new/contestbell.sqlite3", data_dir=str(tmp_path))
    assert result.returncode == 0, result.stdout
    lines = lines_of(result)
    assert lines["database"] == ("ok", f"sqlite://{tmp_path}/new/contestbell.sqlite3 (not made yet: the first "
                                       "start makes it)")
    assert [lines[name][0] for name in ("redis", "smtp", "telegram", "oidc")] == ["off"] * 4
    assert not (tmp_path / "new").exists() and not (tmp_path / "secret_key").exists()  # check changes nothing


async def test_smtp_without_auth_and_a_server_without_starttls(tmp_path):
    with mailbox() as box:
        plain = await check(data_dir=str(tmp_path), smtp_host="127.0.0.1", smtp_port=str(box.port),
                            smtp_starttls="false")
        required = await check(data_dir=str(tmp_path), smtp_host="127.0.0.1", smtp_port=str(box.port))
    assert plain.returncode == 0 and lines_of(plain)["smtp"] == ("ok", f"127.0.0.1:{box.port} (no TLS, no login)")
    assert required.returncode == 1
    status, detail = lines_of(required)["smtp"]
    assert status == "FAIL" and "STARTTLS" in detail, detail


async def test_every_failure_is_its_own_line_and_exit_status_1(tmp_path):
    closed = free_port()
    provider = OIDCProvider(client_secret=OIDC_SECRET)
    with mailbox(SMTP_PASSWORD) as box:
        async with telegram() as api, provider.running() as issuer:
            wrong = await check(database_url=f"postgres://postgres:db-Secret@127.0.0.1:{closed}/contestbell",
                                redis_url=f"redis://:redis-Secret@127.0.0.1:{closed}/0", data_dir=str(tmp_path),
                                smtp_host="127.0.0.1", smtp_port=str(box.port), smtp_user=SMTP_USER,
                                smtp_password="not-the-password", smtp_starttls="false",
                                telegram_token="999:not-the-token", telegram_api_base=api,
                                oidc_issuer=api, oidc_client_id="contestbell", oidc_client_secret=OIDC_SECRET)
            slash = await check(data_dir=str(tmp_path), oidc_issuer=issuer + "/", oidc_client_id="contestbell",
                                oidc_client_secret=OIDC_SECRET)
    assert wrong.returncode == 1, wrong.stdout
    lines = lines_of(wrong)
    assert lines["settings"][0] == "ok"
    assert lines["database"] == ("FAIL", lines["database"][1]) and "refused" in lines["database"][1].lower()
    assert lines["redis"][0] == "FAIL" and "Connection refused" in lines["redis"][1]
    assert lines["smtp"] == ("FAIL", lines["smtp"][1]) and f"login as {SMTP_USER} refused (535" in lines["smtp"][1]
    assert lines["telegram"][0] == "FAIL" and "401" in lines["telegram"][1] and "refused" in lines["telegram"][1]
    assert lines["oidc"] == ("FAIL", f"{api}/.well-known/openid-configuration answered HTTP 404: not an OpenID "
                                     "Connect issuer")
    for secret in ("db-Secret", "redis-Secret", "not-the-password", "not-the-token", OIDC_SECRET):
        assert secret not in wrong.stdout + wrong.stderr
    assert slash.returncode == 1
    status, detail = lines_of(slash)["oidc"]
    assert status == "FAIL" and f"its issuer is '{issuer}', not the configured '{issuer}/'" in detail


async def test_a_server_that_never_answers_fails_within_a_few_seconds(tmp_path):
    with silent_listener() as port:
        started = asyncio.get_running_loop().time()
        result = await check(data_dir=str(tmp_path), smtp_host="127.0.0.1", smtp_port=str(port),
                             smtp_starttls="false", telegram_token=TOKEN, telegram_api_base=f"http://127.0.0.1:{port}")
        took = asyncio.get_running_loop().time() - started
    assert result.returncode == 1
    lines = lines_of(result)
    assert lines["smtp"][0] == lines["telegram"][0] == "FAIL"
    assert took < 15, took  # both at once, each within its 5 s


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("log_level", "verbose", "'verbose' is not a log level: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("sentry_dsn", "https://o1.ingest.sentry.io/5", "not a Sentry DSN (https://KEY@HOST/PROJECT): Missing public key"),
    ("database_url", "mysql://root:db-Secret@db/contestbell", "use postgres://USER:PASSWORD@HOST:5432/DB or "
                                                              "sqlite://PATH, not a mysql:// address"),
    ("redis_url", "http://:redis-Secret@cache:6379", "use redis://HOST:6379/DB"),
    ("http_host", "http://0.0.0.0:8080", "'http://0.0.0.0:8080' is not a host name or IP address to listen on"),
    ("fetch_via", "127.0.0.1:8099", "use an address like https://HOST[:PORT][/PATH]"),
])
async def test_a_bad_setting_is_one_line_and_exit_status_2(tmp_path, setting, value, message):
    result = await check(data_dir=str(tmp_path), **{setting: value})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"contestbell: bad setting CONTESTBELL_{setting.upper()}: {message}")
    assert result.stderr.count("\n") == 1 and "Secret" not in result.stderr
