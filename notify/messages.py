"""What the delivery channels are asked to send: reminders (possibly several contests due at once for one
chat, coalesced into one message) and notices that a contest moved or was cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class ContestInfo:
    id: int
    site: str
    key: str
    title: str
    url: str
    start: datetime  # UTC
    duration: int  # seconds
    site_name: str = ""  # the site's display name ("Codeforces"); the slug when not given

    @property
    def site_label(self) -> str:
        return self.site_name or self.site


@dataclass(frozen=True, slots=True)
class Reminder:
    """One contest in a reminder message: `offset` seconds before its start; `late` when sent after its
    due time (after downtime), so the text can say so."""

    contest: ContestInfo
    offset: int
    late: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """A contest that people were already reminded of moved (old -> new start) or was cancelled."""

    kind: Literal["moved", "cancelled"]
    contest: ContestInfo
    old_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class Locale:
    """How a person reads: language and IANA time zone."""

    language: str
    timezone: str
