"""Sites, their contests and the changes ingest noticed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import BulkCreateQuery

#: everything but letters and digits (of any script): what a title key leaves out
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def title_key(text: str) -> str:
    """The form titles and keywords are matched in: compatibility forms folded (NFKC), lower case, only letters
    and digits of any script. "Codeforces Round 999 (Div. 2)" -> "codeforcesround999div2", so the keywords
    "div 2", "Div. 2", "div2" and "DIV-2" all find it; "Раунд 5" -> "раунд5"."""
    return _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text).casefold())


class Site(Model):
    """A contest site and its fetch health (the module in fetchers/ says how to read it)."""

    slug = fields.CharField(max_length=40, primary_key=True)
    name = fields.CharField(max_length=100)
    url = fields.CharField(max_length=300)
    every_seconds = fields.IntField()
    last_try = fields.DatetimeField(null=True)
    last_success = fields.DatetimeField(null=True)
    consecutive_failures = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    #: the source that fetches this site: None for a site fetched on its own (a module in fetchers/ or an iCalendar
    #: feed), "clist" for a site read from the clist.by upstream
    source = fields.CharField(max_length=40, null=True)
    #: False for a row that only holds a source's fetch health (clist itself): it is not a site people pick
    listed = fields.BooleanField(default=True)
    #: a fingerprint of how the clock that kicks this site's fetches reaches it (CONTESTBELL_FETCH_VIA and the
    #: site's address): when it changes, the failures in a row were those of other settings and backoff starts afresh
    fetch_settings = fields.CharField(max_length=64, null=True)

    contests: fields.ReverseRelation[Contest]

    class Meta:
        table = "site"


class Contest(Model):
    """A contest as last fetched. Times are UTC, `key` is the site's own id. Never deleted, only cancelled."""

    id = fields.IntField(primary_key=True)
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "models.Site", related_name="contests", on_delete=fields.CASCADE
    )
    site_id: str
    key = fields.CharField(max_length=128)
    title = fields.CharField(max_length=300)
    #: title_key(title), kept by every save and bulk_create: keywords are matched against it in SQL
    title_key = fields.TextField(default="", db_default="")
    url = fields.CharField(max_length=500)
    start = fields.DatetimeField(db_index=True)
    end = fields.DatetimeField()
    duration = fields.IntField()
    kind = fields.CharField(max_length=64, null=True)
    #: what else the site says about the contest (CTFtime: format, onsite, weight, location), shown as is
    details = fields.JSONField(null=True)
    cancelled = fields.BooleanField(default=False)
    #: successful fetches in a row that did not list this (future) contest, 2 cancel it
    misses = fields.SmallIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contest"
        unique_together = (("site", "key"),)

    async def save(self, using_db: BaseDBAsyncClient | None = None, update_fields: Iterable[str] | None = None,
                   force_create: bool = False, force_update: bool = False) -> None:
        """Saves with `title_key` following `title`."""
        self.title_key = title_key(self.title)
        await super().save(using_db, with_title_key(update_fields), force_create, force_update)

    @classmethod
    def bulk_create(cls, objects: Iterable[Contest], batch_size: int | None = None, ignore_conflicts: bool = False,
                    update_fields: Iterable[str] | None = None, on_conflict: Iterable[str] | None = None,
                    using_db: BaseDBAsyncClient | None = None) -> BulkCreateQuery[Contest]:
        """Inserts (or upserts, ingest) with each row's `title_key` following its `title`."""
        rows = list(objects)
        for row in rows:
            row.title_key = title_key(row.title)
        return super().bulk_create(rows, batch_size, ignore_conflicts, with_title_key(update_fields), on_conflict,
                                   using_db)


def with_title_key(update_fields: Iterable[str] | None) -> list[str] | None:
    """The fields to write, with `title_key` wherever `title` is."""
    if update_fields is None:
        return None
    names = list(update_fields)
    return [*names, "title_key"] if "title" in names and "title_key" not in names else names


class ChangeKind(StrEnum):
    NEW = "new"
    RESCHEDULED = "rescheduled"
    RENAMED = "renamed"
    EXTENDED = "extended"
    CANCELLED = "cancelled"
    RESTORED = "restored"


class ContestChange(Model):
    """One thing ingest noticed about a contest. It feeds live pages and "contest moved" notices."""

    id = fields.IntField(primary_key=True)
    contest: fields.ForeignKeyRelation[Contest] = fields.ForeignKeyField(
        "models.Contest", related_name="changes", on_delete=fields.CASCADE
    )
    contest_id: int
    kind = fields.CharEnumField(ChangeKind, max_length=16)
    old_start = fields.DatetimeField(null=True)
    new_start = fields.DatetimeField(null=True)
    old_title = fields.CharField(max_length=300, null=True)
    new_title = fields.CharField(max_length=300, null=True)
    old_duration = fields.IntField(null=True)
    new_duration = fields.IntField(null=True)
    noticed_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "contest_change"
