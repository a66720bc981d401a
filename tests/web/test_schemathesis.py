"""schemathesis against /api/v1/openapi.json of a real `contestbell web` process (issue 9): every check, a
bounded number of generated requests per operation, the positive-data check included. The document states the
rules the API enforces (site slugs, readable `q`, `to` later than `from`, cursors only as issued), so
schema-valid requests are accepted and invalid ones refused with a 4xx, never a 5xx."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from fetchers import codeforces, leetcode
from fetchers.ingest import ingest
from models.account import Account
from tests.captures import capture_json
from tests.processes import REPO, contestbell_env, free_port, healthz_answers, running, wait_until
from web.sessions import cookie_key

ST = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "st"
#: generated requests per operation and phase: about a minute on our machines
EXAMPLES = "300"
SECRET_KEY = "k9Qz-3vLr_Xw8TnB2eYh5uJc7mPa4sDf6gHq1WxZ"


@pytest.fixture
async def seeded(db) -> str:
    now = datetime.now(UTC)
    await ingest("codeforces", codeforces.parse(capture_json("codeforces/contest_list_trimmed_2026-10-06.json")), now)
    await ingest("leetcode", leetcode.parse(capture_json("leetcode/graphql_upcomingContests_2026-10.json")), now)
    return db


def session_cookie(account_id: int) -> str:
    """A session of the account, as the web process's encrypted cookie store writes it (so /api/v1/me is tested
    signed in, and schemathesis checks that without the cookie it is refused)."""
    fernet = Fernet(base64.urlsafe_b64encode(cookie_key(SECRET_KEY)))
    data = {"created": int(time.time()), "session": {"account": account_id}}
    return fernet.encrypt(json.dumps(data).encode()).decode()


def run_schemathesis(base: str, report: Path, session: str) -> subprocess.CompletedProcess[str]:
    """`st run` with the session as the value of the document's `session` security scheme (a cookie): it
    sends it where the document asks for it, and leaves it out to check that the API then refuses."""
    config = report.parent / "schemathesis.toml"
    config.write_text(f'[auth.openapi.session]\napi_key = "{session}"\n')
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "NO_COLOR": "1"}
    return subprocess.run(
        [str(ST), "--config-file", str(config), "run", f"{base}/api/v1/openapi.json", "--checks", "all",
         "--max-examples", EXAMPLES,
         "--seed", "20261126", "--generation-database", "none", "--report", "junit", "--report-dir", str(report),
         "--workers", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


async def test_schemathesis_finds_nothing(seeded, tmp_path):
    port = free_port()
    account = await Account.create(sites=["codeforces"], include_keywords=["div. 2"])
    env = contestbell_env(database_url=seeded, http_port=str(port), sites="none", data_dir=str(tmp_path),
                          secret_key=SECRET_KEY)
    with running("web", env=env, log=tmp_path / "web.log"):
        await wait_until(lambda: healthz_answers(port), 60, "contestbell web to start")
        result = await asyncio.to_thread(run_schemathesis, f"http://127.0.0.1:{port}", tmp_path / "report",
                                         session_cookie(account.id))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout, result.stdout[-3000:]
    generated = int(result.stdout.split(" generated")[0].rsplit(None, 1)[-1])
    assert generated >= 300, result.stdout[-1500:]  # it really tried
    log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
