"""LeetCode: the GraphQL endpoint lists upcoming weekly and biweekly contests with start and duration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fetchers.contest import Contest, ParseError, SiteInfo, expect, reading, utc_from_unix
from fetchers.http import SiteClient

SITE = SiteInfo("leetcode", "LeetCode", "https://leetcode.com/contest/", every=timedelta(hours=1))
API = "https://leetcode.com/graphql"
QUERY = "query upcomingContests { upcomingContests { title titleSlug startTime duration } }"
CONTEST_URL = "https://leetcode.com/contest/"
#: `upcomingContests` is what we ask for; saved `allContests` answers have the same row shape.
LIST_FIELDS = ("upcomingContests", "allContests")


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.post_json(API, {"query": QUERY, "operationName": "upcomingContests"}))


def parse(payload: Any) -> list[Contest]:
    return [contest_from_row(row) for row in contest_rows(payload)]


def contest_rows(payload: Any) -> list[Any]:
    """The contest list of a GraphQL answer; a GraphQL `errors` array becomes a ParseError."""
    expect(isinstance(payload, dict), f"leetcode: expected a JSON object, got {type(payload).__name__}")
    errors = payload.get("errors")
    if errors:
        raise ParseError(f"leetcode answered GraphQL errors: {graphql_error_messages(errors)}")
    data = payload.get("data")
    expect(isinstance(data, dict), "leetcode: the answer has no `data` object")
    field = next((name for name in LIST_FIELDS if name in data), None)
    expect(field is not None, f"leetcode: `data` has none of {', '.join(LIST_FIELDS)}")
    rows = data[field]
    expect(isinstance(rows, list), f"leetcode: `{field}` is not a list")
    return rows


def graphql_error_messages(errors: Any) -> str:
    if not isinstance(errors, list):
        return repr(errors)
    return "; ".join(str(error.get("message", error)) if isinstance(error, dict) else str(error)
                     for error in errors)


def contest_from_row(row: Any) -> Contest:
    expect(isinstance(row, dict), f"leetcode: contest row {row!r:.80}")
    slug = row.get("titleSlug")
    expect(isinstance(slug, str) and slug, f"leetcode: contest row without titleSlug {row!r:.80}")
    title = row.get("title")
    expect(isinstance(title, str), f"leetcode: contest {slug!r} has no title")
    with reading(f"leetcode: contest {slug!r}"):
        return Contest(
            SITE.slug, key=slug, title=title.strip(), url=f"{CONTEST_URL}{slug}",
            start=utc_from_unix(int(row["startTime"])), duration=int(row["duration"]),
            kind=weekly_kind(slug, title),
        )


def weekly_kind(slug: str, title: str) -> str | None:
    """'weekly' or 'biweekly' when the slug or title says so (word by word: 'biweekly' contains 'weekly')."""
    words = set(slug.lower().split("-")) | set(title.lower().split())
    if "biweekly" in words:
        return "biweekly"
    if "weekly" in words:
        return "weekly"
    return None
