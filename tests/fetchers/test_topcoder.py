"""TopCoder's rounds in HackerRank's public calendar feed (capture of 2018-06-04, 1876 events of several sites)."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from fetchers import topcoder
from fetchers.contest import Contest
from tests.captures import by_key, capture_text

FEED = "hackerrank/calendar_cal_ics_2018-06-04.ics"
BUILT = datetime(2018, 6, 4, 5, 44, 22, tzinfo=UTC)  # every event's DTSTAMP
EVENTS = "https://www.topcoder.com/community/events/"


@pytest.fixture(scope="module")
def contests() -> list[Contest]:
    """The capture parsed once for this module's tests (parse() is pure)."""
    return topcoder.parse(capture_text(FEED))


def test_capture_has_topcoder_rounds_of_every_subdomain(contests):
    # 226 on www.topcoder.com, 68 on subdomains and 14 behind Google redirect links to topcoder.com
    assert len(contests) == 308
    assert Counter(urlsplit(contest.url).hostname for contest in contests) == {
        "www.topcoder.com": 235, "community.topcoder.com": 41, "tco16.topcoder.com": 13, "tco15.topcoder.com": 11,
        "crowdsourcing.topcoder.com": 6, "apps.topcoder.com": 1, "tco18.topcoder.com": 1}
    assert {contest.site for contest in contests} == {"topcoder"}
    assert all(contest.key == contest.title for contest in contests)
    assert [contest.key for contest in contests][:3] == ["SRM 586", "SRM 587", "SRM 588"]


def test_no_other_sites_round_is_read(contests):
    assert not [c.url for c in contests if not (urlsplit(c.url).hostname or "").endswith(".topcoder.com")]
    titles = " ".join(contest.title for contest in contests).lower()
    assert "codeforces" not in titles and "codechef" not in titles
    assert not [contest.title for contest in contests if contest.title.startswith("Topcoder - ")]


@pytest.mark.parametrize(("key", "start", "end"), [
    ("TCO18 Algorithm Round 2B", datetime(2018, 6, 14, 15, tzinfo=UTC), datetime(2018, 6, 14, 17, tzinfo=UTC)),
    ("TCO18 Algorithm Round 3A", datetime(2018, 7, 7, 16, tzinfo=UTC), datetime(2018, 7, 7, 18, tzinfo=UTC)),
    ("TCO18 Algorithm Round 3B", datetime(2018, 7, 20, 1, tzinfo=UTC), datetime(2018, 7, 20, 3, tzinfo=UTC)),
    ("TCO18 Algorithm Round 4", datetime(2018, 7, 28, 16, tzinfo=UTC), datetime(2018, 7, 28, 18, tzinfo=UTC)),
    ("TCO18 Algorithm Online Wildcard Round", datetime(2018, 8, 25, 16, tzinfo=UTC),
     datetime(2018, 8, 25, 18, tzinfo=UTC)),
    ("TCO18 Marathon Round 2", datetime(2018, 6, 7, 1, tzinfo=UTC), datetime(2018, 6, 14, 1, tzinfo=UTC)),
    ("TCO18 Marathon Round 3", datetime(2018, 7, 12, 1, tzinfo=UTC), datetime(2018, 7, 19, 1, tzinfo=UTC)),
    ("TCO18 Marathon Round 4", datetime(2018, 8, 2, 1, tzinfo=UTC), datetime(2018, 8, 9, 1, tzinfo=UTC)),
])
def test_tco18_rounds_after_the_capture(contests, key, start, end):
    contest = by_key(contests)[key]
    assert (contest.title, contest.start, contest.end, contest.url) == (key, start, end, EVENTS)


def test_rounds_after_the_capture_are_the_tco18_rounds(contests):
    later = [contest.key for contest in contests if contest.start > BUILT]
    assert len(later) == 8 and all(key.startswith("TCO18 ") for key in later)


@pytest.mark.parametrize(("key", "url", "start"), [
    # LOCATION:https://www.google.com/url?q=http%3A%2F%2Fcrowdsourcing.topcoder.com%2FHarvard-NTL-SRM&sa=D&…
    ("SRM 730", "http://crowdsourcing.topcoder.com/Harvard-NTL-SRM", datetime(2018, 2, 20, 12, tzinfo=UTC)),
    ("TCO18 Warsaw Event and Parallel Fun Rated Online Match",
     "http://tco18.topcoder.com/regional-events/warsaw-poland/", datetime(2018, 5, 12, 11, tzinfo=UTC)),
    ("MM 100!!!!!", "https://www.topcoder.com/member-onboarding/competing-in-marathon-matches-mm/",
     datetime(2018, 4, 19, 1, tzinfo=UTC)),
])
def test_rounds_behind_google_redirect_links(contests, key, url, start):
    contest = by_key(contests)[key]
    assert (contest.url, contest.start) == (url, start)


def test_titles_tell_apart_rounds_that_addresses_do_not(contests):
    rounds = by_key(contests)
    # the feed lists SRM 617 twice, the old date titled so; SRM 648 and SRM 650 share a match page
    assert (rounds["SRM 617"].start, rounds["SRM 617 (to be moved)"].start) == (
        datetime(2014, 4, 21, 12, tzinfo=UTC), datetime(2014, 4, 19, 16, tzinfo=UTC))
    assert rounds["SRM 648"].url == rounds["SRM 650"].url == (
        "http://community.topcoder.com/tc?module=MatchDetails&rd=16312")
    assert rounds["SRM 648"].start != rounds["SRM 650"].start


def test_escaped_comma_and_a_subdomain(contests):
    contest = by_key(contests)["TCO15 Algorithm Round 2D - Jaipur, India"]
    assert (contest.url, contest.start, contest.duration) == (
        "http://tco15.topcoder.com/regional-events/#/tco15-jaipur-india/", datetime(2015, 8, 22, 6, 30, tzinfo=UTC),
        1800)


def test_keys_do_not_depend_on_the_uids():
    text = capture_text(FEED)
    rebuilt = re.sub(r"^UID:.*$", lambda _: f"UID:{uuid.uuid4()}", text, flags=re.MULTILINE)
    assert topcoder.parse(rebuilt) == topcoder.parse(text)


def test_fetch_reads_hackerranks_feed():
    assert topcoder.FEED == "https://www.hackerrank.com/calendar/cal.ics"
    assert (topcoder.SITE.slug, topcoder.SITE.name, topcoder.SITE.response) == ("topcoder", "TopCoder", "text")


def test_a_title_longer_than_a_key_makes_a_bounded_key():
    title = "Marathon Match " + "with a very long name " * 10
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:1", "DTSTART:20260310T120000Z",
                        "DTEND:20260310T140000Z", f"SUMMARY:Topcoder - {title}", "LOCATION:https://www.topcoder.com/",
                        "END:VEVENT", "END:VCALENDAR", ""])
    [contest] = topcoder.parse(text)
    assert contest.title == title.strip() and len(contest.key) == 128 and contest.key.startswith("Marathon Match with")
