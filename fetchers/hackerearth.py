"""HackerEarth: the browser extension feed lists ongoing and upcoming challenges with UTC times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fetchers.contest import Contest, ParseError, SiteInfo, as_utc, expect, reading
from fetchers.http import SiteClient

SITE = SiteInfo("hackerearth", "HackerEarth", "https://www.hackerearth.com/challenges/",
                every=timedelta(hours=1))
API = "https://www.hackerearth.com/chrome-extension/events/"
#: Time fields in order of preference; both carry an explicit offset.
START_FIELDS = ("start_utc_tz", "start_tz")
END_FIELDS = ("end_utc_tz", "end_tz")


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_json(API))


def parse(payload: Any) -> list[Contest]:
    expect(isinstance(payload, dict), f"hackerearth: expected a JSON object, got {type(payload).__name__}")
    events = payload.get("response")
    expect(isinstance(events, list), "hackerearth: `response` is not a list")
    return [contest_from_event(event) for event in events]


def contest_from_event(event: Any) -> Contest:
    expect(isinstance(event, dict), f"hackerearth: event {event!r:.80}")
    url = event.get("url")
    expect(isinstance(url, str) and url.startswith("http"), f"hackerearth: event without url {event!r:.80}")
    path = url_path_parts(url)
    expect(path, f"hackerearth: event url {url!r} has no path")
    key = str(event.get("id") or path[-1])
    title = event.get("title")
    expect(isinstance(title, str), f"hackerearth: event {key!r} has no title")
    with reading(f"hackerearth: event {key!r}"):
        start = event_time(event, START_FIELDS)
        return Contest(
            SITE.slug, key=key, title=title.strip(), url=url, start=start,
            duration=int((event_time(event, END_FIELDS) - start).total_seconds()),
            kind=challenge_kind(event, path),
        )


def url_path_parts(url: str) -> list[str]:
    return [part for part in urlsplit(url).path.split("/") if part]


def event_time(event: dict[str, Any], fields: tuple[str, ...]) -> datetime:
    """The first of `fields` present, e.g. '2026-08-16 18:30:00+00:00', in UTC."""
    text = next((event[name] for name in fields if event.get(name)), None)
    if text is None:
        raise ParseError(f"none of {', '.join(fields)}")
    return as_utc(datetime.fromisoformat(text))


def challenge_kind(event: dict[str, Any], path: list[str]) -> str | None:
    """The type in `/challenges/<type>/<slug>/` ('hackathon', 'competitive'), else `challenge_type`.

    The feed's own `challenge_type` says 'Monthly Challenges' for hackathons and hiring challenges
    alike, so the URL tells the kind better.
    """
    if len(path) >= 3 and path[0] == "challenges":
        return path[1]
    challenge_type = event.get("challenge_type")
    return str(challenge_type) if challenge_type else None
