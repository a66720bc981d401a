"""Settings from `CONTESTBELL_*` environment variables (documented in the README)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from web.proxies import Network

DEFAULT_DATABASE_URL = "sqlite://var/contestbell.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")


def is_host(value: str) -> bool:
    """An IP address or a host name (no scheme, port or path)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return len(value) <= 253 and bool(_HOST_NAME.match(value))
    return True


def web_address_problem(value: str) -> str | None:
    """What is wrong with an http(s) base address, or None. The address itself is not echoed: some carry a key."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "use an address like https://HOST[:PORT][/PATH]"
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "the port is not a number from 0 to 65535"
    if parts.query or parts.fragment:
        return "use an address without ?query or #fragment"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTESTBELL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    #: the reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client; empty:
    #: nobody's. Loopback for nginx on the same host; in compose, the Docker network's range
    trusted_proxies: str = "127.0.0.1,::1"
    sites: str = "all"
    fetch_via: str | None = None
    sentry_dsn: str | None = None
    #: unset: made once and kept in the data directory, which only works while nothing is reachable from outside
    secret_key: str | None = Field(None, repr=False)
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    #: text: one readable line per record; json: one JSON object per line (time, level, logger, message, context)
    log_format: Literal["text", "json"] = "text"
    #: worker and scheduler serve /metrics on HTTP_HOST:METRICS_PORT (unset: not served); web and run serve it on
    #: their web port
    metrics_port: int | None = Field(None, ge=1, le=65535)
    fetch_timeout: float = Field(20.0, gt=0)
    keep_past_days: int = Field(31, ge=0)
    telegram_token: str | None = Field(None, repr=False)
    telegram_api_base: str = "https://api.telegram.org"
    #: what Telegram allows as a webhook secret: 1 to 256 of A-Z, a-z, 0-9, _ and -
    telegram_webhook_secret: str | None = Field(None, repr=False, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    #: Telegram's limit for the whole bot: messages in any one second (the limiter keeps its own safety margin,
    #: notify/limits.py); 0 lifts the limit (benchmarks)
    telegram_rate: float = Field(30.0, ge=0)
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    smtp_from: str | None = None
    smtp_starttls: bool = True
    #: sign-in with any OpenID Connect provider (discovery at ISSUER/.well-known/openid-configuration)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(None, repr=False)
    oidc_name: str = "OpenID Connect"
    #: sign-in with GitHub (an OAuth app); the two URLs change only for a test double or GitHub Enterprise
    github_client_id: str | None = None
    github_client_secret: str | None = Field(None, repr=False)
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    #: where Discord webhooks are called (a stored webhook is only its id and token): a test double's address
    discord_api_base: str = "https://discord.com"
    #: iCalendar feeds read as sites: `slug|Display name|https://…/feed.ics`, comma-separated
    ical_sources: str = ""
    #: clist.by API v4 credentials: with both set, every clist resource not fetched natively becomes a site
    clist_username: str | None = None
    clist_api_key: str | None = Field(None, repr=False)

    @field_validator("redis_url", "public_url", "fetch_via", "sentry_dsn", "telegram_token",
                     "telegram_webhook_secret", "smtp_host", "smtp_user", "smtp_password", "smtp_from", "secret_key",
                     "oidc_issuer", "oidc_client_id", "oidc_client_secret", "github_client_id", "github_client_secret",
                     "clist_username", "clist_api_key", "metrics_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        from tortoise.backends.base.config_generator import expand_db_url
        from tortoise.exceptions import ConfigurationError

        scheme = urlsplit(value).scheme
        if scheme not in DATABASE_SCHEMES:
            raise ValueError("use postgres://USER:PASSWORD@HOST:5432/DB or sqlite://PATH"
                             + (f", not a {scheme}:// address" if scheme else ""))
        try:
            expand_db_url(value)
        except (ConfigurationError, ValueError) as error:  # the URL is not echoed: it may hold a password
            raise ValueError(f"not a database address Tortoise can open: {error}") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_address(cls, value: str | None) -> str | None:
        from redis.connection import parse_url

        if value is not None:
            try:
                parse_url(value)
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises on a port that is not a number
            except ValueError as error:
                raise ValueError(f"use redis://HOST:6379/DB (or rediss://, unix://): {error}") from None
            database = parts.path.strip("/")
            if parts.scheme != "unix" and database and not database.isdigit():  # redis-py would quietly use 0
                raise ValueError("the database after the host is a number: redis://HOST:6379/0")
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _sentry_dsn(cls, value: str | None) -> str | None:
        from sentry_sdk.utils import BadDsn, Dsn

        if value is not None:
            try:
                Dsn(value)
            except BadDsn as error:
                raise ValueError(f"not a Sentry DSN (https://KEY@HOST/PROJECT): {error}") from None
        return value

    @field_validator("http_host")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        if not is_host(value):
            raise ValueError(f"{value!r} is not a host name or IP address to listen on (e.g. 127.0.0.1, 0.0.0.0, ::)")
        return value

    @field_validator("fetch_via", "public_url", "telegram_api_base", "oidc_issuer", "discord_api_base", "github_url",
                     "github_api_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None:
            problem = web_address_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        from web.proxies import parse_networks

        parse_networks(value)  # raises ValueError naming the entry
        return value

    @field_validator("ical_sources")
    @classmethod
    def _readable_feed_list(cls, value: str) -> str:
        from fetchers.feeds import feed_sources  # the iCalendar reader only for those who list feeds

        feed_sources(value)  # raises BadFeedList (a ValueError) naming the entry
        return value

    @model_validator(mode="after")
    def _clist_needs_both(self) -> Settings:
        if bool(self.clist_username) != bool(self.clist_api_key):
            raise ValueError("CONTESTBELL_CLIST_USERNAME and CONTESTBELL_CLIST_API_KEY go together: set both or none")
        return self

    def base_url(self) -> str:
        """Where links in messages point: the public URL, else this process's own address."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        from web.proxies import parse_networks

        return parse_networks(self.trusted_proxies)

    def site_selection(self) -> list[str] | None:
        """The slugs named in CONTESTBELL_SITES; None means all sites, [] means fetching is off."""
        value = self.sites.strip().lower()
        if value in ("", "all"):
            return None
        if value == "none":
            return []
        return [slug.strip() for slug in value.split(",") if slug.strip()]

    def sqlite_path(self) -> Path | None:
        """The file behind an SQLite URL (so its folder can be created), or None for other databases."""
        prefix = "sqlite://"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix):]
        return None if path == ":memory:" else Path(path)
