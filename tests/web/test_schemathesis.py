"""schemathesis against /api/v1/openapi.json of a real `contestbell web` process (issue 9): every check, a
bounded number of generated requests per operation, the positive-data check included. The document states the
rules the API enforces (site slugs, readable `q`, `to` later than `from`, cursors only as issued), so
schema-valid requests are accepted and invalid ones refused with a 4xx, never a 5xx."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fetchers import codeforces, leetcode
from fetchers.ingest import ingest
from tests.captures import capture_json
from tests.processes import REPO, contestbell_env, free_port, healthz_answers, running, wait_until

ST = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "st"
#: generated requests per operation and phase: about a minute on our machines
EXAMPLES = "300"


@pytest.fixture
async def seeded(db) -> str:
    now = datetime.now(UTC)
    await ingest("codeforces", codeforces.parse(capture_json("codeforces/contest_list_trimmed_2026-10-06.json")), now)
    await ingest("leetcode", leetcode.parse(capture_json("leetcode/graphql_upcomingContests_2026-10.json")), now)
    return db


def run_schemathesis(base: str, report: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "NO_COLOR": "1"}
    return subprocess.run(
        [str(ST), "run", f"{base}/api/v1/openapi.json", "--checks", "all", "--max-examples", EXAMPLES,
         "--seed", "20261126", "--generation-database", "none", "--report", "junit", "--report-dir", str(report),
         "--workers", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


async def test_schemathesis_finds_nothing(seeded, tmp_path):
    port = free_port()
    env = contestbell_env(database_url=seeded, http_port=str(port), sites="none", data_dir=str(tmp_path))
    with running("web", env=env, log=tmp_path / "web.log"):
        await wait_until(lambda: healthz_answers(port), 60, "contestbell web to start")
        result = await asyncio.to_thread(run_schemathesis, f"http://127.0.0.1:{port}", tmp_path / "report")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    generated = int(result.stdout.split(" generated")[0].rsplit(None, 1)[-1])
    assert generated >= 300, result.stdout[-1500:]  # it really tried
    log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
