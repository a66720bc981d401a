"""Sites, their contests and the changes ingest noticed."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


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
