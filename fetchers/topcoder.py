"""TopCoder: its rounds (SRMs, Marathon Matches, TCO rounds), read from HackerRank's public calendar feed.

TopCoder has no public schedule we can read; HackerRank's feed (see fetchers/hackerrank.py) lists its rounds:
- A round is TopCoder's when its address is on topcoder.com or a subdomain (www, community, tco15, tco16,
  crowdsourcing, apps). Fourteen rounds of 2017-2018 link through Google's redirector
  (`https://www.google.com/url?q=https%3A%2F%2Fwww.topcoder.com…`); fetchers/ical.py unwraps those, so they
  count as TopCoder's and their address is the real one.
- Keys are the titles ("SRM 586", "TCO18 Algorithm Round 3A"): the UIDs change with every build of the feed,
  and addresses do not tell rounds apart (165 rounds link to /community/events/; a match page's `rd=` is
  missing for most and shared by SRM 648 and SRM 650). Titles are unique in the feed (308 rounds). A renamed
  round therefore shows as a new one and the old title as cancelled. A title longer than a key may be is cut
  and ends with its sha1 (fetchers.ical.bounded_key).
- Titles lose the feed's "Topcoder - " prefix.
"""

from __future__ import annotations

from datetime import timedelta

from fetchers.contest import Contest, SiteInfo
from fetchers.hackerrank import FEED, duration_seconds, site_rounds, site_title, unique_keys
from fetchers.http import SiteClient
from fetchers.ical import bounded_key

SITE = SiteInfo("topcoder", "TopCoder", "https://www.topcoder.com", every=timedelta(hours=2), response="text")
DOMAIN = "topcoder.com"
TITLE_PREFIX = "Topcoder - "

__all__ = ["FEED", "SITE", "fetch", "parse"]


async def fetch(http: SiteClient) -> list[Contest]:
    return parse(await http.get_text(FEED))


def parse(text: str) -> list[Contest]:
    rounds = [(site_title(event.title, TITLE_PREFIX), event) for event in site_rounds(text, DOMAIN)]
    return unique_keys(
        Contest(SITE.slug, key=bounded_key(title), title=title, url=event.url, start=event.start,
                duration=duration_seconds(event))
        for title, event in rounds
    )
