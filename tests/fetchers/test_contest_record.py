"""What every parser's records must fit: the database columns, whatever a site sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fetchers.contest import LONGEST_TITLE, Contest, ParseError

START = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_wordy_title_is_cut_to_fit_and_says_so():
    contest = Contest("kaggle", "1", "word " * 100, "https://kaggle.com/c/1", START, 3600)
    assert len(contest.title) == LONGEST_TITLE and contest.title.endswith("…")


@pytest.mark.parametrize("change", [
    {"key": "k" * 129}, {"url": "https://x.example/" + "a" * 500}, {"duration": 2**31}, {"duration": -1},
    {"title": "  "}, {"key": ""}, {"start": datetime(2026, 12, 1)},
])
def test_records_that_cannot_be_stored_are_parse_errors(change):
    fields = {"site": "kaggle", "key": "1", "title": "Contest", "url": "https://kaggle.com/c/1", "start": START,
              "duration": 3600, **change}
    with pytest.raises(ParseError):
        Contest(**fields)
