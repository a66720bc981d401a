"""What a site parser produces: plain contest records, site descriptions and parse errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit


class ParseError(ValueError):
    """A site answered something we cannot read; the fetch counts as failed and changes nothing."""


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A contest site: its slug (our stable name), display name, home page and fetch interval.

    `response` says how a saved or fetched body is handed to `parse()`: decoded JSON or text.
    `request_gap` is the least time in seconds between two requests to the site's host.
    `resource` is the name clist.by gives the site when it is not the home page's host without `www.`
    (`codeforces.com/gyms`): contests clist lists under a site we fetch ourselves are skipped.
    `source` names the source that fetches the site when it is not fetched on its own (sites read from clist), and
    `listed` is False for a source that is not itself a site people pick (clist).
    """

    slug: str
    name: str
    url: str
    every: timedelta = timedelta(minutes=30)
    response: Literal["json", "text"] = "json"
    request_gap: float = 0.0
    resource: str = ""
    source: str | None = None
    listed: bool = True

    def upstream_resource(self) -> str:
        """The site's name on clist.by: `resource`, else the home page's host without `www.`."""
        host = (urlsplit(self.url).hostname or "").removeprefix("www.")
        return self.resource or host


#: what the database columns hold (models/contest.py); a duration beyond a 32-bit integer is no contest
LONGEST_KEY, LONGEST_TITLE, LONGEST_URL, LONGEST_DURATION = 128, 300, 500, 2**31 - 1


@dataclass(frozen=True, slots=True)
class Contest:
    """One contest as a site lists it. Times are aware UTC datetimes; `key` is the site's own id."""

    site: str
    key: str
    title: str
    url: str
    start: datetime
    duration: int
    kind: str | None = None
    #: what else the site says that people may want (CTFtime: format, onsite, weight): short JSON-able values
    details: dict[str, Any] | None = field(default=None, hash=False)
    end: datetime = field(init=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise ParseError(f"{self.site} contest {self.key}: start {self.start!r} is not UTC")
        if self.duration < 0:
            raise ParseError(f"{self.site} contest {self.key}: negative duration {self.duration}")
        if not self.key or not self.title.strip():
            raise ParseError(f"{self.site} contest: missing key or title ({self.key!r}, {self.title!r})")
        if len(self.key) > LONGEST_KEY or len(self.url) > LONGEST_URL or self.duration > LONGEST_DURATION:
            raise ParseError(f"{self.site} contest {self.key[:40]!r}: key, address or duration out of range")
        if len(self.title) > LONGEST_TITLE:  # a real contest with a wordy title: kept, its title cut
            object.__setattr__(self, "title", self.title[:LONGEST_TITLE - 1].rstrip() + "…")
        object.__setattr__(self, "end", self.start + timedelta(seconds=self.duration))

    def as_json(self) -> dict[str, object]:
        """The record as printed by `contestbell parse` (ISO 8601 UTC with `Z`)."""
        return {
            "site": self.site,
            "key": self.key,
            "title": self.title,
            "url": self.url,
            "start": iso_z(self.start),
            "end": iso_z(self.end),
            "duration": self.duration,
            "kind": self.kind,
            **({"details": self.details} if self.details else {}),
        }


def utc_from_unix(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def as_utc(moment: datetime) -> datetime:
    """Convert an aware datetime to UTC; a naive one is a parse error (its zone is unknown)."""
    if moment.tzinfo is None:
        raise ParseError(f"time {moment.isoformat()} has no zone")
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_json(text: str, source: str) -> Any:
    """Decode a JSON answer (or a JSON blob embedded in a page); `source` names it in the error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"{source}: answer is not JSON ({error.msg} at {error.pos}): {text[:80]!r}") from error


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Re-raise what a malformed row causes (a missing field, a wrong type, an impossible date) as a
    ParseError that names the row, so one bad row never surfaces as a KeyError in a worker."""
    try:
        yield
    except ParseError as error:
        raise ParseError(f"{what}: {error}") from error
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
        raise ParseError(f"{what}: {error!r}") from error


def expect(condition: object, message: str) -> None:
    """Raise ParseError(message) unless condition holds: keeps shape checks in parsers to one line."""
    if not condition:
        raise ParseError(message)
