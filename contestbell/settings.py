"""Settings from `CONTESTBELL_*` environment variables (documented in the README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite://var/contestbell.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTESTBELL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    sites: str = "all"
    fetch_via: str | None = None
    sentry_dsn: str | None = None
    #: unset: made once and kept in the data directory, which only works while nothing is reachable from outside
    secret_key: str | None = Field(None, repr=False)
    data_dir: Path = Path("var")
    log_level: str = "INFO"
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
                     "clist_username", "clist_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

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
