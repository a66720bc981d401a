"""HackerRank's rounds in HackerRank's public calendar feed (capture of 2018-06-04, 1876 events of several sites)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from fetchers import hackerrank
from fetchers.contest import Contest, ParseError
from tests.captures import by_key, capture_text

FEED = "hackerrank/calendar_cal_ics_2018-06-04.ics"
BUILT = datetime(2018, 6, 4, 5, 44, 22, tzinfo=UTC)  # every event's DTSTAMP


@pytest.fixture(scope="module")
def contests() -> list[Contest]:
    """The capture parsed once for this module's tests (parse() is pure)."""
    return hackerrank.parse(capture_text(FEED))


def test_capture_has_hackerrank_rounds_only(contests):
    # 567 events link to www.hackerrank.com: Hacker Games Finals ends before it starts (DTEND 1970) and is
    # skipped; code-cpp-4 is listed twice, and "Guess the rating" both at /rating and at /contests/rating/
    assert len(contests) == 564
    assert {urlsplit(contest.url).hostname for contest in contests} == {"www.hackerrank.com"}
    assert {contest.site for contest in contests} == {"hackerrank"}
    assert [contest.key for contest in contests][:3] == ["rating", "aug13", "startatastartup"]
    assert "hgfinals" not in by_key(contests)


def test_no_codeforces_or_codechef_round_is_read(contests):
    titles = " ".join(contest.title for contest in contests).lower()
    assert "codeforces" not in titles and "codechef" not in titles and "topcoder" not in titles


@pytest.mark.parametrize(("key", "title", "start", "end"), [
    ("w38", "Week of Code 38", datetime(2018, 6, 18, 7, tzinfo=UTC), datetime(2018, 6, 25, 7, tzinfo=UTC)),
    ("101hack55", "101 Hack 55", datetime(2018, 7, 2, 15, tzinfo=UTC), datetime(2018, 7, 2, 18, tzinfo=UTC)),
    ("moodys-analytics-2018-university-codesprint", "Moody's Analytics 2018 University CodeSprint",
     datetime(2018, 8, 17, 16, tzinfo=UTC), datetime(2018, 8, 19, 16, tzinfo=UTC)),
    # SUMMARY:WYSIWYG - Anwesha'14\, IIT-P
    ("wysiwyg", "WYSIWYG - Anwesha'14, IIT-P", datetime(2014, 1, 26, 9, 30, tzinfo=UTC),
     datetime(2014, 1, 26, 11, 30, tzinfo=UTC)),
    ("code-cpp-4", "Code.cpp 4", datetime(2016, 5, 7, 15, 30, tzinfo=UTC), datetime(2016, 5, 8, 15, 30, tzinfo=UTC)),
])
def test_capture_values(contests, key, title, start, end):
    contest = by_key(contests)[key]
    assert (contest.title, contest.start, contest.end) == (title, start, end)
    assert contest.url == f"https://www.hackerrank.com/contests/{key}/"


def test_rounds_after_the_capture(contests):
    later = [contest.key for contest in contests if contest.start > BUILT]
    assert later == ["w38", "101hack55", "moodys-analytics-2018-university-codesprint"]


def test_the_feeds_prefix_is_dropped_and_a_page_outside_contests_keeps_its_path(contests):
    rating = by_key(contests)["rating"]  # SUMMARY:HackerRank - Guess the rating
    assert (rating.title, rating.url) == ("Guess the rating", "https://www.hackerrank.com/rating")


def test_keys_do_not_depend_on_the_uids():
    """The UIDs are random UUIDs made anew with each build of the feed (icalendar-ruby's default)."""
    text = capture_text(FEED)
    assert len(set(re.findall(r"^UID:(.*)$", text, flags=re.MULTILINE))) == 1876
    rebuilt = re.sub(r"^UID:.*$", lambda _: f"UID:{uuid.uuid4()}", text, flags=re.MULTILINE)
    assert rebuilt != text
    assert hackerrank.parse(rebuilt) == hackerrank.parse(text)


def test_a_web_page_instead_of_the_feed_is_a_parse_error():
    with pytest.raises(ParseError, match="calendar"):
        hackerrank.parse("<html><body><h1>We'll be back soon!</h1></body></html>")


def test_a_feed_without_events_is_no_contests():
    assert hackerrank.parse("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:icalendar-ruby\nEND:VCALENDAR\n") == []
