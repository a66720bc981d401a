"""`contestbell run` with a bot token, long-polling a fake Bot API: the real process, as on a laptop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import contestbell_env, free_port, healthz_answers, running, wait_until


@asynccontextmanager
async def run_with_bot(db: str, log: Path, **settings: str) -> AsyncIterator[tuple[FakeTelegram, int]]:
    """Yields the fake Bot API and the web port once the process answers /healthz; `settings` are more
    CONTESTBELL_* settings (lower case, without the prefix)."""
    fake = FakeTelegram()
    port = free_port()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = contestbell_env(database_url=db, http_port=str(port), sites="none", telegram_token=TOKEN,
                              telegram_api_base=str(api.make_url("")).rstrip("/"), data_dir=str(log.parent),
                              **settings)
        with running("run", env=env, log=log):
            await wait_until(lambda: healthz_answers(port), 60, "contestbell run to start")
            yield fake, port
