"""Run `contestbell` commands as real processes, the way an operator would."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]


def contestbell_env(**settings: str) -> dict[str, str]:
    """The current environment with CONTESTBELL_* settings replaced by the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTESTBELL_")}
    env.update({f"CONTESTBELL_{name.upper()}": value for name, value in settings.items()})
    return env


def contestbell(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contestbell.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@contextmanager
def running_command(command: list[str], *, cwd: Path, env: dict[str, str], log: Path
                    ) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process, its output appended to `log`, stopped with SIGTERM (then SIGKILL) at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop(process)


def running(*args: str, env: dict[str, str], log: Path):
    """A long-running `contestbell ARGS` process."""
    return running_command([sys.executable, "-m", "contestbell.cli", *args], cwd=REPO, env=env, log=log)


def stop(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def healthz_answers(port: int) -> bool:
    """Does a contestbell process on this port answer /healthz with 200 yet?"""
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False
