"""`contestbell run` with a token on a laptop: the bot long-polls (here, the fake Bot API) and answers;
without a token one log line says the bot is off."""

from __future__ import annotations

import asyncio

from tests.bot.run import run_with_bot
from tests.bot.updates import USER_ID, private_message
from tests.processes import contestbell_env, free_port, healthz_answers, running, wait_until


async def test_run_with_a_token_long_polls_and_answers(db, tmp_path):
    async with run_with_bot(db, tmp_path / "run.log") as (fake, _port):
        fake.queue_update(private_message("/start"))
        [reply] = await fake.wait_for("sendMessage", chat_id=USER_ID, timeout=30)
    assert "I remind you of programming contests" in reply.text
    assert fake.sent("deleteWebhook") and len(fake.sent("setMyCommands")) == 2
    assert "long polling" in (tmp_path / "run.log").read_text()


async def test_run_without_a_token_says_the_bot_is_off(db, tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    with running("run", env=contestbell_env(database_url=db, http_port=str(port), sites="none"), log=log):
        await wait_until(lambda: healthz_answers(port), 60, "contestbell run to start")
        await asyncio.sleep(0.2)
    lines = [line for line in log.read_text().splitlines() if "Telegram bot is off" in line]
    assert len(lines) == 1 and "CONTESTBELL_TELEGRAM_TOKEN" in lines[0]
