"""Access to the real captures in ../shared/fixtures (read in place, never copied).

Where the folder is missing a test that needs it is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fetchers.contest import Contest

FIXTURES = Path(os.environ.get("CONTESTBELL_FIXTURES", Path(__file__).resolve().parents[1] / ".." / "shared"
                                / "fixtures")).resolve()


def capture(relative: str) -> Path:
    """The path of one capture; skips (or fails under CI) when the fixtures folder is absent."""
    path = FIXTURES / relative
    if not FIXTURES.is_dir():
        message = f"the captures folder {FIXTURES} is absent (expected beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if not path.is_file():
        pytest.fail(f"capture {relative} is missing from {FIXTURES}")
    return path


def capture_json(relative: str) -> Any:
    return json.loads(capture(relative).read_text(encoding="utf-8"))


def capture_text(relative: str) -> str:
    return capture(relative).read_text(encoding="utf-8")


def by_key(contests: list[Contest]) -> dict[str, Contest]:
    """Parsed contests by their key, for assertions on particular contests."""
    return {contest.key: contest for contest in contests}


def with_first_row_changed(rows: list[Any], field: str, value: Any) -> list[Any]:
    """A copy of a captured list of rows with one field of its first row removed (value `...`) or replaced."""
    changed = copy.deepcopy(rows)
    if value is ...:
        del changed[0][field]
    else:
        changed[0][field] = value
    return changed
