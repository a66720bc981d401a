"""AtCoder contests and archive pages: real captures (English and Japanese layouts) and broken bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fetchers import atcoder
from fetchers.contest import Contest, ParseError
from tests.captures import capture_text

PAGE_EN = "atcoder/contests_page_en_2026-06.html"
UPCOMING_TRIMMED = "atcoder/contests_upcoming_table_trimmed_en_2026-10.html"
ARCHIVE_EN = "atcoder/contests_archive_en_2025-10.html"
ARCHIVE_JA = "atcoder/contests_archive_ja_2019-10.html"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def parsed(relative: str) -> dict[str, Contest]:
    return {contest.key: contest for contest in atcoder.parse(capture_text(relative))}


# (capture, key, title, start in UTC, duration in seconds, kind), read from the captures by hand:
# the page shows JST (+0900), so 21:00 there is 12:00 UTC.
EXPECTED = [
    (PAGE_EN, "abc462", "CodeQUEEN 2026 -qual- (AtCoder Beginner Contest 462)",
     utc(2026, 6, 13, 12), 100 * 60, "ABC"),
    (PAGE_EN, "arc222", "AtCoder Regular Contest 222", utc(2026, 6, 14, 12), 2 * 3600, "ARC"),
    (PAGE_EN, "ahc067", "AtCoder Heuristic Contest 067", utc(2026, 6, 21, 10), 4 * 3600, "AHC"),
    (PAGE_EN, "abc464", "第七回日本最強プログラマー学生選手権～Advance～ -予選- "
     "（AtCoder Beginner Contest 464）",
     utc(2026, 6, 27, 12), 100 * 60, "ABC"),
    (PAGE_EN, "awc0091", "AtCoder Weekday Contest 0091 Beta", utc(2026, 6, 15, 11), 3600, "AWC"),
    (PAGE_EN, "ahc066", "AtCoder Heuristic Contest 066", utc(2026, 5, 29, 11), 239 * 3600, "AHC"),
    (PAGE_EN, "abc459",  # two spaces before "(" on the page
     "Tokio Marine & Nichido Fire Insurance Programming Contest 2026 (AtCoder Beginner Contest 459)",
     utc(2026, 5, 23, 12), 100 * 60, "ABC"),
    (PAGE_EN, "scpc2026-div3", "SCPC 2026 Div.3", utc(2026, 5, 16, 4, 30), 3 * 3600, None),
    (PAGE_EN, "ndpc", "Next DP Contest", utc(2026, 5, 5, 4), 5 * 3600, None),
    (PAGE_EN, "agc075", "AtCoder Grand Contest 075", utc(2025, 12, 21, 12), 3 * 3600, "AGC"),
    (UPCOMING_TRIMMED, "arc232", "AtCoder Regular Contest++ 232", utc(2026, 10, 10, 12), 150 * 60, "ARC"),
    (UPCOMING_TRIMMED, "aalc001", "AAL Contest 001: Let's use segtree!",
     utc(2026, 10, 12, 4), 5 * 3600, None),
    (UPCOMING_TRIMMED, "ahc073", "AtCoder Heuristic Contest 073", utc(2026, 10, 17, 6), 4 * 3600, "AHC"),
    (UPCOMING_TRIMMED, "ahc074", "HACK TO THE FUTURE 2027 (AtCoder Heuristic Contest 074)",
     utc(2026, 10, 30, 10), 240 * 3600, "AHC"),
    (ARCHIVE_EN, "arc207", "AtCoder Regular Contest 207 (Div.1)", utc(2025, 10, 5, 12), 150 * 60, "ARC"),
    (ARCHIVE_EN, "abc425", "UNIQUE VISION Programming Contest 2025 Autumn (AtCoder Beginner Contest 425)",
     utc(2025, 9, 27, 12), 100 * 60, "ABC"),
    (ARCHIVE_EN, "ahc054", "ALGO ARTIS Programming Contest 2025 Summer（AtCoder Heuristic Contest 054）",
     utc(2025, 9, 19, 10), 240 * 3600, "AHC"),
    (ARCHIVE_EN, "jsc2025advance-final", "日本最強プログラマー学生選手権～Advance～",
     utc(2025, 9, 7, 4, 10), 100 * 60, None),
    (ARCHIVE_EN, "awtf2025heuristic", "World Tour Finals 2025 Heuristic",
     utc(2025, 7, 16, 0), 10 * 3600, None),
    (ARCHIVE_EN, "ahc046", "BrainPad Programming Contest 2025 （AtCoder Heuristic Contest 046）",
     utc(2025, 4, 26, 6), 4 * 3600, "AHC"),
    (ARCHIVE_EN, "agc072", "AtCoder Grand Contest 072", utc(2025, 4, 20, 12), 3 * 3600, "AGC"),
    (ARCHIVE_JA, "kupc2019", "Kyoto University Programming Contest 2019",
     utc(2019, 10, 13, 4), 5 * 3600, None),
    (ARCHIVE_JA, "agc035", "AtCoder Grand Contest 035", utc(2019, 7, 14, 12, 30), 130 * 60, "AGC"),
    (ARCHIVE_JA, "kuronekoyamato-contest2019", "ヤマト運輸プログラミングコンテスト2019",
     utc(2019, 8, 3, 1), 364 * 3600 + 59 * 60, None),
    (ARCHIVE_JA, "bcu30-2019", "プログラミングバトル 本戦 - BCU30", utc(2019, 7, 6, 9, 45), 20 * 60, None),
    (ARCHIVE_JA, "chokudai_S002", "Chokudai SpeedRun 002", utc(2019, 5, 25, 5), 3600, None),
    (ARCHIVE_JA, "abc125", "AtCoder Beginner Contest 125", utc(2019, 4, 27, 12), 100 * 60, "ABC"),
]


@pytest.mark.parametrize(("relative", "key", "title", "start", "duration", "kind"), EXPECTED)
def test_contest_values(relative, key, title, start, duration, kind):
    contest = parsed(relative)[key]
    assert contest == Contest("atcoder", key=key, title=title, url=f"https://atcoder.jp/contests/{key}",
                              start=start, duration=duration, kind=kind)


@pytest.mark.parametrize(("relative", "count", "first", "last"), [
    (PAGE_EN, 8 + 1 + 50, "abc462", "agc075"),  # upcoming + daily + recent; the 2 permanent rows are skipped
    (UPCOMING_TRIMMED, 6, "arc232", "ahc074"),
    (ARCHIVE_EN, 50, "arc207", "agc072"),
    (ARCHIVE_JA, 50, "kupc2019", "abc125"),
])
def test_counts_and_page_order(relative, count, first, last):
    contests = atcoder.parse(capture_text(relative))
    assert len(contests) == count
    assert len({contest.key for contest in contests}) == count
    assert (contests[0].key, contests[-1].key) == (first, last)


def test_contests_page_tables():
    """Permanent contests (no start time) are skipped; the daily contest follows the upcoming ones."""
    keys = [contest.key for contest in atcoder.parse(capture_text(PAGE_EN))]
    assert "practice" not in keys and "practice2" not in keys
    assert keys[:10] == ["abc462", "arc222", "abc463", "ahc067", "abc464", "arc223", "abc465", "abc466",
                         "awc0091", "ahc066"]


def test_every_time_is_utc_and_end_follows_duration():
    for relative in (PAGE_EN, UPCOMING_TRIMMED, ARCHIVE_EN, ARCHIVE_JA):
        for contest in atcoder.parse(capture_text(relative)):
            assert contest.start.tzinfo is UTC
            assert (contest.end - contest.start).total_seconds() == contest.duration


def test_running_table_is_read_and_a_repeated_contest_kept_once():
    upcoming = capture_text(UPCOMING_TRIMMED)
    table = upcoming[upcoming.index("<div id="):upcoming.index("</body>")]
    page = ("<html><body>" + table.replace("contest-table-upcoming", "contest-table-action", 1) + table
            + "</body></html>")
    assert [contest.key for contest in atcoder.parse(page)] == [
        "arc232", "abc479", "aalc001", "ahc073", "abc480", "ahc074"]


def test_empty_upcoming_table_is_no_contests():
    upcoming = capture_text(UPCOMING_TRIMMED)
    empty = upcoming[:upcoming.index("<tbody>") + 7] + upcoming[upcoming.index("</tbody>"):]
    assert atcoder.parse(empty) == []


def test_time_without_offset_is_read_as_jst():
    page = capture_text(UPCOMING_TRIMMED).replace("2026-10-10 21:00:00+0900", "2026-10-10 21:00:00")
    assert atcoder.parse(page)[0].start == utc(2026, 10, 10, 12)


def test_absolute_contest_link():
    page = capture_text(UPCOMING_TRIMMED).replace('href="/contests/arc232"',
                                                  'href="https://atcoder.jp/contests/arc232/"')
    assert atcoder.parse(page)[0].key == "arc232"


@pytest.mark.parametrize("payload", [None, {"contests": []}, b"<html></html>", ["<html></html>"]])
def test_wrong_shape(payload):
    with pytest.raises(ParseError, match="page text"):
        atcoder.parse(payload)


@pytest.mark.parametrize("payload", ["", "  \n"])
def test_empty_body(payload):
    with pytest.raises(ParseError, match="empty"):
        atcoder.parse(payload)


@pytest.mark.parametrize("relative", [PAGE_EN, UPCOMING_TRIMMED, ARCHIVE_EN, ARCHIVE_JA])
@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_truncated_page(relative, fraction):
    text = capture_text(relative)
    with pytest.raises(ParseError, match="truncated"):
        atcoder.parse(text[:int(len(text) * fraction)])


@pytest.mark.parametrize("payload", [
    "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
    '{"contests": []} </html>',
])
def test_page_without_contest_table(payload):
    with pytest.raises(ParseError, match="no contest table"):
        atcoder.parse(payload)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("2026-10-10 21:00:00+0900", "2026-13-10 21:00:00+0900", "bad start time"),
    ("2026-10-10 21:00:00+0900", "soon", "bad start time"),
    ('<td class="text-center">02:30</td>', '<td class="text-center">2h30</td>', "bad duration"),
    ('<td class="text-center">02:30</td>', '<td class="text-center">02:75</td>', "bad duration"),
    ('<td class="text-center">02:30</td>', '<td class="text-center"></td>', "bad duration"),
    ('href="/contests/arc232"', 'href="/users/arc232"', "no contest link"),
    ('href="/contests/arc232"', 'href="/contests/"', "not a contest link"),
    ('<a href="/contests/arc232">AtCoder Regular Contest++ 232</a>', '<a href="/contests/arc232"> </a>',
     "missing key or title"),
])
def test_malformed_row(old, new, message):
    page = capture_text(UPCOMING_TRIMMED)
    assert old in page
    with pytest.raises(ParseError, match=message):
        atcoder.parse(page.replace(old, new, 1))


def test_row_missing_cells():
    page = capture_text(UPCOMING_TRIMMED)
    row_end = page.index("</tr>", page.index("arc232"))
    cut = page[:page.index('<td class="text-center">02:30</td>')] + page[row_end:]
    with pytest.raises(ParseError, match="2 cells"):
        atcoder.parse(cut)
