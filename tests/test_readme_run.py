"""The README's run command, started as a newcomer would: a fresh copy of the repository, `./dev run`.

It builds its own virtualenv from the lock file, creates the SQLite database under ./var, and serves
/healthz; with CONTESTBELL_FETCH_VIA pointing at the replay server its in-process worker fetches every site.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from fetchers.registry import all_sites
from tests.processes import REPO, contestbell_env, free_port, running_command, wait_until
from tests.replay import Replay


def readme_run_command() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(\./dev \w+)\s*$", readme, flags=re.MULTILINE)
    assert "./dev run" in commands, "the README must show ./dev run on a line of its own"
    return "./dev run"


def fresh_copy(target: Path) -> Path:
    """The repository's files as a clone has them (tracked, plus new files not yet committed)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


async def test_readme_run_command_answers_healthz_and_fetches(tmp_path):
    command = readme_run_command()
    checkout = fresh_copy(tmp_path / "contestbell")
    port = free_port()
    replay = Replay()
    async with TestServer(replay.app, host="127.0.0.1") as mirror, aiohttp.ClientSession() as client:
        env = contestbell_env(http_port=str(port), fetch_via=str(mirror.make_url("")), keep_past_days="36500")
        health: dict = {}

        async def healthy() -> bool:
            try:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                    health.update(await response.json())
                    return response.status == 200 and not health["stale_sites"]
            except aiohttp.ClientError:
                return False

        with running_command(command.split(), cwd=checkout, env=env, log=tmp_path / "run.log"):
            await wait_until(healthy, 600, f"{command} to answer /healthz with every site fetched")

    assert health["database"] == "ok"
    assert [site["site"] for site in health["sites"]] == sorted(all_sites())
    assert all(site["ok"] and site["consecutive_failures"] == 0 for site in health["sites"])
    assert (checkout / "var" / "contestbell.sqlite3").is_file()
    assert (checkout / ".venv" / "bin" / "contestbell").is_file()
