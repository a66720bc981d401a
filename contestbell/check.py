"""`contestbell check`: reach everything the settings name, one line per check.

The settings themselves are checked before this runs (a bad one stops the command with exit status 2). Then the
database, Redis, the SMTP server, Telegram and the OpenID Connect issuer are reached at once, each within a few
seconds, and each says `ok`, `FAIL` or `off` (not configured). Nothing is changed anywhere: no migration, no
file, no message. Passwords, tokens and keys are never printed.
"""

from __future__ import annotations

import asyncio
import os
import pkgutil
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import aiosmtplib
import asyncpg
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

import models.migrations
from contestbell.secret_key import KEY_FILE, read_kept_key, secret_key
from contestbell.settings import Settings

#: seconds each check may take
CHECK_TIMEOUT = 5.0
Status = Literal["ok", "FAIL", "off"]


class CheckFailed(Exception):
    """What went wrong, in words for the operator (the line's text)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name:<9} {self.detail}"


Check = Callable[[Settings], Awaitable[Outcome]]


def shown_url(url: str) -> str:
    """A URL fit to print: the user name stays, a password becomes `…`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:…@{host}").geturl()


def secrets_of(settings: Settings) -> list[str]:
    """Values no line may show, whatever an error message quotes (a value of a few letters would blank out
    ordinary words, and no message quotes one)."""
    values = [settings.smtp_password, settings.telegram_token, settings.oidc_client_secret, settings.secret_key,
              urlsplit(settings.database_url).password, urlsplit(settings.redis_url or "").password]
    return [value for value in values if value and len(value) >= 6]


def described(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def scrubbed(text: str, settings: Settings) -> str:
    for secret in secrets_of(settings):
        text = text.replace(secret, "…")
    return " ".join(text.split())


# the database


def migration_names() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(models.migrations.__path__) if m.name[:4].isdigit()}


def migration_state(applied: set[str]) -> str:
    pending = len(migration_names() - applied)
    if not applied:
        return "empty: every process migrates it on start, or run `contestbell migrate`"
    if pending:
        return f"{pending} migration(s) to apply: every process applies them on start, or `contestbell migrate`"
    return "migrated"


async def check_database(settings: Settings) -> Outcome:
    url = settings.database_url
    if settings.sqlite_path() is not None or url.startswith("sqlite://"):
        return await asyncio.to_thread(check_sqlite, settings)
    return await check_postgres(url)


async def check_postgres(url: str) -> Outcome:
    from tortoise.backends.base.config_generator import expand_db_url

    given = expand_db_url(url)["credentials"]
    wanted = ("host", "port", "user", "password", "database", "ssl")
    try:
        connection = await asyncpg.connect(**{k: given[k] for k in wanted if given.get(k) is not None},
                                           timeout=CHECK_TIMEOUT)
    except (OSError, asyncpg.PostgresError) as error:  # asyncpg's own messages do not say where
        raise CheckFailed(f"{shown_url(url)}: {described(error)}") from error
    try:
        version = connection.get_settings().server_version.split()[0]  # "15.18 (Debian 15.18-0+deb12u1)"
        has_table = await connection.fetchval("SELECT to_regclass('tortoise_migrations') IS NOT NULL")
        rows = await connection.fetch("SELECT name FROM tortoise_migrations WHERE app = 'models'") if has_table else []
    finally:
        await connection.close()
    state = migration_state({row["name"] for row in rows})
    return Outcome("ok", "database", f"{shown_url(url)} (PostgreSQL {version}, {state})")


def check_sqlite(settings: Settings) -> Outcome:
    path = settings.sqlite_path()
    shown = settings.database_url
    if path is None:
        return Outcome("ok", "database", f"{shown} (in memory)")
    if not path.exists():
        folder = next(p for p in [path.parent, *path.parent.parents] if p.exists())
        if not folder.is_dir() or not _writable(folder):
            raise CheckFailed(f"{shown}: cannot make {path}: {folder} is not a writable folder")
        return Outcome("ok", "database", f"{shown} (not made yet: the first start makes it)")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=CHECK_TIMEOUT)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            rows = (connection.execute("SELECT name FROM tortoise_migrations WHERE app = 'models'").fetchall()
                    if "tortoise_migrations" in tables else [])
    except sqlite3.Error as error:
        raise CheckFailed(f"{shown}: {error}") from error
    return Outcome("ok", "database", f"{shown} (SQLite, {migration_state({row[0] for row in rows})})")


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


# Redis


async def check_redis(settings: Settings) -> Outcome:
    if not settings.redis_url:
        return Outcome("off", "redis", "CONTESTBELL_REDIS_URL unset: queue and events in-process (contestbell run)")
    client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=CHECK_TIMEOUT,
                                     socket_timeout=CHECK_TIMEOUT, retry=Retry(NoBackoff(), 0))
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    return Outcome("ok", "redis", f"{shown_url(settings.redis_url)} (Redis {info.get('redis_version', '?')})")


# SMTP


async def check_smtp(settings: Settings) -> Outcome:
    """EHLO (and STARTTLS when required), then a login when a user is set; QUIT. No mail is sent."""
    if not settings.smtp_host:
        return Outcome("off", "smtp", "CONTESTBELL_SMTP_HOST unset: email is off")
    implicit_tls = settings.smtp_port == 465
    starttls = settings.smtp_starttls and not implicit_tls
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    smtp = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, use_tls=implicit_tls,
                           start_tls=starttls, timeout=CHECK_TIMEOUT)
    try:
        await smtp.connect()
        if settings.smtp_user:
            await smtp_login(smtp, settings.smtp_user, settings.smtp_password or "", where)
        await smtp.quit()
    except aiosmtplib.SMTPException as error:
        raise CheckFailed(f"{where}: {smtp_problem(error)}") from error
    finally:
        smtp.close()
    tls = "TLS" if implicit_tls else "STARTTLS" if starttls else "no TLS"
    login = f"logged in as {settings.smtp_user}" if settings.smtp_user else "no login"
    return Outcome("ok", "smtp", f"{where} ({tls}, {login})")


async def smtp_login(smtp: aiosmtplib.SMTP, user: str, password: str, where: str) -> None:
    try:
        await smtp.login(user, password)
    except aiosmtplib.SMTPAuthenticationError as error:
        raise CheckFailed(f"{where}: login as {user} refused ({error.code} {error.message})") from error


def smtp_problem(error: aiosmtplib.SMTPException) -> str:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"
    return error.message if hasattr(error, "message") else str(error)


# HTTP: Telegram and the OpenID Connect issuer


async def get_json(url: str, method: str = "GET") -> tuple[int, Any]:
    """Status and JSON body (None when the body is not JSON). Errors never show the URL (it may hold a token)."""
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.request(method, url) as response:
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, None
    except aiohttp.ClientConnectorError as error:
        reason = os.strerror(error.os_error.errno) if error.os_error.errno else str(error.os_error)
        raise CheckFailed(f"cannot connect to {error.host}:{error.port}: {reason}") from None
    except aiohttp.ClientError as error:
        raise CheckFailed(f"{type(error).__name__}") from None


async def check_telegram(settings: Settings) -> Outcome:
    if not settings.telegram_token:
        return Outcome("off", "telegram", "CONTESTBELL_TELEGRAM_TOKEN unset: no bot")
    base = settings.telegram_api_base.rstrip("/")
    status, body = await get_json(f"{base}/bot{settings.telegram_token}/getMe", "POST")  # as the bot calls it
    if not isinstance(body, dict) or "ok" not in body:
        raise CheckFailed(f"{base} is not a Bot API server: getMe answered HTTP {status} without a Bot API answer")
    if not body["ok"]:
        described = body.get("description") or f"HTTP {status}"
        hint = ": the token was refused (see @BotFather)" if status == 401 else ""
        raise CheckFailed(f"getMe at {base} answered {status} {described}{hint}")
    me = body.get("result") or {}
    return Outcome("ok", "telegram", f"@{me.get('username', '?')} (id {me.get('id', '?')}) at {base}")


async def check_oidc(settings: Settings) -> Outcome:
    given = {"ISSUER": settings.oidc_issuer, "CLIENT_ID": settings.oidc_client_id,
             "CLIENT_SECRET": settings.oidc_client_secret}
    if not any(given.values()):
        return Outcome("off", "oidc", "CONTESTBELL_OIDC_ISSUER unset: no OpenID Connect sign-in")
    missing = [f"CONTESTBELL_OIDC_{name}" for name, value in given.items() if not value]
    if missing:
        raise CheckFailed(f"sign-in needs all three of ISSUER, CLIENT_ID and CLIENT_SECRET: {', '.join(missing)} unset")
    issuer = settings.oidc_issuer or ""
    discovery = issuer.rstrip("/") + "/.well-known/openid-configuration"
    status, document = await get_json(discovery)
    if status != 200 or not isinstance(document, dict):
        raise CheckFailed(f"{discovery} answered HTTP {status}" + ("" if document is None else " (not a JSON object)")
                          + ": not an OpenID Connect issuer")
    problem = discovery_problem(document, issuer)
    if problem:
        raise CheckFailed(f"{discovery}: {problem}")
    return Outcome("ok", "oidc", f"{issuer} (discovery document read)")


def discovery_problem(document: dict[str, Any], issuer: str) -> str | None:
    """Why sign-in would fail with this discovery document, or None."""
    if document.get("issuer") != issuer:
        return f"its issuer is {document.get('issuer')!r}, not the configured {issuer!r} (sign-in would refuse it)"
    missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)]
    return f"no {', '.join(missing)}" if missing else None


# all together

CHECKS: dict[str, Check] = {"database": check_database, "redis": check_redis, "smtp": check_smtp,
                            "telegram": check_telegram, "oidc": check_oidc}


async def guarded(name: str, check: Check, settings: Settings) -> Outcome:
    """One check within CHECK_TIMEOUT; any failure is its line, never a traceback."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return await check(settings)
    except TimeoutError:
        return Outcome("FAIL", name, f"no answer within {CHECK_TIMEOUT:g} s")
    except CheckFailed as error:
        return Outcome("FAIL", name, scrubbed(str(error), settings))
    except Exception as error:  # whatever the driver raises is the answer to print
        return Outcome("FAIL", name, scrubbed(described(error), settings))


def settings_outcome(settings: Settings) -> Outcome:
    """The settings passed their validators before this runs; the secret key is checked here, like every process
    does on start (a bad or missing one raises SecretKeyProblem: exit status 2). Nothing is written."""
    kept = Path(settings.data_dir) / KEY_FILE
    if settings.secret_key is not None or settings.public_url:
        secret_key(settings)
        key = "CONTESTBELL_SECRET_KEY set"
    elif kept.exists():
        read_kept_key(kept)
        key = f"secret key kept in {kept}"
    else:
        key = f"secret key made in {kept} on first start"
    return Outcome("ok", "settings", f"every CONTESTBELL_* setting is valid; {key}")


async def run_checks(settings: Settings) -> list[Outcome]:
    """Every check at once; the outcomes in a fixed order, the settings first."""
    valid = settings_outcome(settings)
    reached = await asyncio.gather(*(guarded(name, check, settings) for name, check in CHECKS.items()))
    return [valid, *reached]
