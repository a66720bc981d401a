"""Luogu (洛谷): the contest list page carries its data as JSON in `<script id="lentille-context">`.

The page also has a `<noscript>` copy of the list with local (UTC+8) times; the JSON is used instead
because it gives unix seconds, the contest id and the rule type.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from fetchers.contest import Contest, SiteInfo, expect, load_json, reading, utc_from_unix
from fetchers.http import SiteClient

SITE = SiteInfo("luogu", "Luogu", "https://www.luogu.com.cn", every=timedelta(hours=1), response="text")
LIST_URL = "https://www.luogu.com.cn/contest/list?page=1"
CONTEST_URL = "https://www.luogu.com.cn/contest/"

#: Luogu's `contestRuleTypes`, keyed by the `method` field of a listed contest.
RULE_TYPES = {1: "OI", 2: "ACM", 3: "乐多", 4: "IOI", 5: "Codeforces"}


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(LIST_URL))


def parse(page: Any) -> list[Contest]:
    """Every contest on the list page (upcoming and past alike, newest start first as Luogu orders them)."""
    return [contest_from(row) for row in contest_rows(page_context(page))]


def page_context(page: Any) -> dict[str, Any]:
    """The decoded JSON object of the page's `lentille-context` script."""
    expect(isinstance(page, str) and page.strip(), "luogu: empty page")
    script = LexborHTMLParser(page).css_first("script#lentille-context")
    expect(script is not None, "luogu: the page has no lentille-context script (not a Luogu list page?)")
    text = script.text()
    context = load_json(text, "luogu: lentille-context")
    expect(isinstance(context, dict), f"luogu: lentille-context is a {type(context).__name__}, not an object")
    return context


def contest_rows(context: dict[str, Any]) -> list[Any]:
    """`data.contests.result`; any other shape (an error template, a different page) is a parse error."""
    data = context.get("data")
    contests = data.get("contests") if isinstance(data, dict) else None
    rows = contests.get("result") if isinstance(contests, dict) else None
    expect(isinstance(rows, list), f"luogu: no contest list in the page context (template "
                                   f"{context.get('template')!r}, status {context.get('status')!r})")
    return rows


def contest_from(row: Any) -> Contest:
    expect(isinstance(row, dict), f"luogu: contest row is not an object: {row!r:.80}")
    key, name = row.get("id"), row.get("name")
    expect(isinstance(key, int) and not isinstance(key, bool), f"luogu: contest without an id: {row!r:.80}")
    expect(isinstance(name, str), f"luogu: contest {key} has no name")
    start, duration = schedule(row, key)
    return Contest(SITE.slug, key=str(key), title=name.strip(), url=f"{CONTEST_URL}{key}", start=start,
                   duration=duration, kind=RULE_TYPES.get(row.get("method")))


def schedule(row: dict[str, Any], key: int) -> tuple[datetime, int]:
    """Start (UTC) and duration in seconds from the unix-second `startTime` and `endTime`."""
    with reading(f"luogu: contest {key}: bad start/end time"):
        start, end = int(row["startTime"]), int(row["endTime"])
        return utc_from_unix(start), end - start
