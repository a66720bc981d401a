"""NowCoder (牛客竞赛): the series-contest page gives each contest a `data-json` attribute.

That JSON holds the id, name and start/end in unix milliseconds, so the visible UTC+8 texts are not read.
The page lists upcoming contests (`js-current`) and recently finished ones (`js-end`); both are returned.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from fetchers.contest import Contest, SiteInfo, expect, load_json, reading, utc_from_unix
from fetchers.http import SiteClient

SITE = SiteInfo("nowcoder", "NowCoder", "https://ac.nowcoder.com", every=timedelta(hours=1), response="text")
LIST_URL = "https://ac.nowcoder.com/acm/contest/vip-index"
CONTEST_URL = "https://ac.nowcoder.com/acm/contest/"

#: `settingInfo.ratingStatus` of a contest that changes nobody's rating; rated ones say Waiting or Finished.
UNRATED = "No"


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(LIST_URL))


def parse(page: Any) -> list[Contest]:
    return [contest_from(item_json(item)) for item in contest_items(page)]


def contest_items(page: Any) -> list[LexborNode]:
    """The `.platform-item` cards of the page's contest sections (`.platform-mod`).

    A cut-off page would silently lose contests, so the page must end with `</html>`.
    """
    expect(isinstance(page, str) and page.strip(), "nowcoder: empty page")
    expect(page.rstrip().lower().endswith("</html>"), "nowcoder: the page is truncated (no closing </html>)")
    tree = LexborHTMLParser(page)
    expect(tree.css_first(".platform-mod") is not None,
           "nowcoder: the page has no contest section (.platform-mod); not the contest list?")
    return tree.css(".platform-mod .platform-item")


def item_json(item: LexborNode) -> dict[str, Any]:
    """The card's `data-json`. NowCoder escapes it twice, so `&quot;` is still there after HTML parsing."""
    raw = item.attributes.get("data-json")
    expect(raw, f"nowcoder: contest card {item.attributes.get('data-id')!r} has no data-json")
    text = html.unescape(raw) if raw.lstrip().startswith("{&quot;") else raw
    data = load_json(text, "nowcoder: data-json")
    expect(isinstance(data, dict), f"nowcoder: data-json is a {type(data).__name__}, not an object")
    return data


def contest_from(data: dict[str, Any]) -> Contest:
    key, name = data.get("contestId"), data.get("contestName")
    expect(isinstance(key, int) and not isinstance(key, bool),
           f"nowcoder: contest without an id: {data!r:.80}")
    expect(isinstance(name, str), f"nowcoder: contest {key} has no name")
    start, duration = schedule(data, key)
    return Contest(SITE.slug, key=str(key), title=name.strip(), url=f"{CONTEST_URL}{key}", start=start,
                   duration=duration, kind=rating_kind(data.get("settingInfo")))


def schedule(data: dict[str, Any], key: int) -> tuple[datetime, int]:
    """Start (UTC) and duration in seconds from `contestStartTime` and `contestEndTime` (unix ms)."""
    with reading(f"nowcoder: contest {key}: bad start/end time"):
        start_ms, end_ms = int(data["contestStartTime"]), int(data["contestEndTime"])
        return utc_from_unix(start_ms / 1000), (end_ms - start_ms) // 1000


def rating_kind(settings: Any) -> str | None:
    """'Rated', or 'Rated (≤1599)' when only ratings up to a limit count (the page's 不计Rating的范围)."""
    if not isinstance(settings, dict) or settings.get("ratingStatus") in (None, UNRATED):
        return None
    limit = settings.get("ratingUpperLimit")
    if settings.get("needRatingUpperLimit") and isinstance(limit, int):
        return f"Rated (≤{limit})"
    return "Rated"
