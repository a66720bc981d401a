"""DMOJ: the contest list API, version 2 (a paged envelope); parse() also reads the older version 1.

- v2 `https://dmoj.ca/api/v2/contests?page=N` answers `{"api_version": "2.0", "method": "get", "fetched": …,
  "data": {"current_object_count", "objects_per_page", "page_index", "has_more", "objects": [{key, name,
  start_time, end_time, time_limit, is_rated, rate_all, tags}], "total_objects", "total_pages"}}`, and on a bad
  page `{…, "error": {"code": 404, "message": …}}` (judge/views/api/api_v2.py in DMOJ/online-judge). A page
  holds 1000 contests in id order, oldest first, so the newest contests are on the last page: fetch() follows
  `has_more` up to MAX_PAGES and fails rather than return a list cut short, where future contests would look
  cancelled.
- v1 `https://dmoj.ca/api/contest/list` (since removed from DMOJ; the only real captures are of it) answers
  one object keyed by contest key: `{"acc6": {name, start_time, end_time, time_limit, labels}}`. The two are
  told apart by v2's `api_version` field, which cannot be a contest key (DMOJ keys are `^[a-z0-9]+$`).
- Both list every visible contest, past ones included (there is no date filter). A contest made public late
  shows up as a new contest with its old dates (DMPG '19 appeared in April 2020 with April 2019 dates).
- Times are ISO with offsets (`2020-04-01T04:00:00+00:00`). A contest runs from start to end; `time_limit` is
  the window each participant gets inside it (three days to pick a start, three hours to write), kept as
  `details["time_limit"]` in seconds. v2 gives seconds (a float); v1 gives `DD:HH:MM` (DMOJ's `sane_time_repr`:
  `00:03:00` is three hours, `07:00:00` seven days), not `HH:MM:SS`.
- The key is the contest key; the page is `https://dmoj.ca/contest/<key>`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any

from fetchers.contest import Contest, ParseError, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("dmoj", "DMOJ", "https://dmoj.ca", every=timedelta(hours=1))
API = "https://dmoj.ca/api/v2/contests"
CONTEST_URL = "https://dmoj.ca/contest/"
#: pages of 1000 contests (DMOJ_API_PAGE_SIZE): the 2020 list held 250 contests, so 20 pages leave a wide margin
MAX_PAGES = 20
#: the longest duration the database stores (a 32-bit integer of seconds)
MAX_DURATION = 2**31 - 1

_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_V1_TIME_LIMIT = re.compile(r"(\d{2,5}):([01]\d|2[0-3]):([0-5]\d)")


async def fetch(http: SiteClient) -> list[Contest]:
    """Every page of the v2 list, in order, until one says there is no more."""
    contests: list[Contest] = []
    for page in range(1, MAX_PAGES + 1):
        payload = await http.get_json(f"{API}?page={page}")
        contests.extend(parse(payload))
        if not has_more(payload):
            return contests
    raise ParseError(f"dmoj: still more contests after {MAX_PAGES} pages; refusing a list cut short")


def parse(payload: Any) -> list[Contest]:
    """One answer of either API version (for v2, one page)."""
    return [contest_from_row(key, row) for key, row in contest_rows(payload)]


def contest_rows(payload: Any) -> list[tuple[Any, Any]]:
    """(key, row) pairs: v1 keys its rows by contest key, v2 puts the key inside each row."""
    expect(isinstance(payload, dict), f"dmoj: expected a JSON object, got {type(payload).__name__}")
    if not is_v2(payload):
        return list(payload.items())
    objects = v2_data(payload).get("objects")
    expect(isinstance(objects, list), "dmoj: `data.objects` is not a list")
    return [(row.get("key") if isinstance(row, dict) else None, row) for row in objects]


def is_v2(payload: dict[str, Any]) -> bool:
    return "api_version" in payload


def v2_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a v2 answer; an `error` answer (a page that does not exist, say) is a ParseError."""
    error = payload.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else error
        raise ParseError(f"dmoj answered {message!r:.120}")
    data = payload.get("data")
    expect(isinstance(data, dict), "dmoj: v2 answer without `data`")
    return data


def has_more(payload: Any) -> bool:
    """Whether a v2 page says more pages follow; a v1 answer is the whole list."""
    if not (isinstance(payload, dict) and is_v2(payload)):
        return False
    more = v2_data(payload).get("has_more")
    expect(isinstance(more, bool), f"dmoj: `has_more` is {more!r:.40}")
    return more


def contest_from_row(key: Any, row: Any) -> Contest:
    expect(isinstance(key, str) and _KEY.fullmatch(key), f"dmoj: contest key {key!r:.40} in {row!r:.80}")
    expect(isinstance(row, dict), f"dmoj: contest {key!r}: row {row!r:.80}")
    name = row.get("name")
    expect(isinstance(name, str), f"dmoj: contest {key!r} has no name")
    with reading(f"dmoj: contest {key!r}"):
        start = row_time(row, "start_time")
        duration = int((row_time(row, "end_time") - start).total_seconds())
        expect(duration <= MAX_DURATION, f"duration of {duration} s")
        limit = time_limit_seconds(row.get("time_limit"))
        return Contest(SITE.slug, key=key, title=name.strip(), url=f"{CONTEST_URL}{key}", start=start,
                       duration=duration, details={"time_limit": limit} if limit is not None else None)


def row_time(row: dict[str, Any], field: str) -> datetime:
    """`2020-04-01T04:00:00+00:00` -> the same moment in UTC; a time without an offset is a ParseError."""
    text = row.get(field)
    expect(isinstance(text, str), f"`{field}` is {text!r:.40}, not a time")
    return as_utc(datetime.fromisoformat(text))


def time_limit_seconds(value: Any) -> int | None:
    """v2 seconds (`10800.0`) or v1 `DD:HH:MM` (`"00:03:00"`) -> 10800; None for a contest without a limit."""
    if value is None:
        return None
    if isinstance(value, str):
        match = _V1_TIME_LIMIT.fullmatch(value)
        if match is None:
            raise ParseError(f"time_limit {value!r:.40} is not DD:HH:MM")
        days, hours, minutes = (int(part) for part in match.groups())
        seconds = days * 86400 + hours * 3600 + minutes * 60
    else:
        expect(type(value) in (int, float) and math.isfinite(value), f"time_limit {value!r:.40} is not seconds")
        seconds = round(value)
    expect(0 < seconds <= MAX_DURATION, f"time_limit of {seconds} s")
    return seconds
