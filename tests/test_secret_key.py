"""No known secret in an exposed deployment (issue 9, item 2): reachable from outside, a process refuses to start
without a secret key of its operator's; on a laptop a random key is made once and kept in the data directory."""

from __future__ import annotations

import hashlib
import json
import stat

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from contestbell.secret_key import SecretKeyProblem, secret_key
from contestbell.settings import Settings
from contestbell.telegram import WEBHOOK_PATH
from tests.bot.updates import private_message
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.processes import contestbell, contestbell_env, free_port, healthz_answers, running, wait_until

GOOD_KEY = "k9Qz-3vLr_Xw8TnB2eYh5uJc7mPa4sDf6gHq1WxZ"
#: the webhook secret anyone could compute from the default that used to be written in the source
OLD_COMPUTABLE = hashlib.sha256(b"telegram-webhook:dev-only-secret-change-me").hexdigest()


@pytest.mark.parametrize("process", ["web", "run", "worker", "scheduler"])
def test_an_exposed_process_refuses_to_start_without_a_key(process, tmp_path):
    env = contestbell_env(database_url=f"sqlite://{tmp_path}/x.sqlite3", public_url="https://bell.example.org",
                          redis_url="redis://127.0.0.1:6379/14", data_dir=str(tmp_path))
    result = contestbell(process, env=env)
    assert result.returncode == 2, result
    [line] = result.stderr.strip().splitlines()
    assert "CONTESTBELL_SECRET_KEY" in line and "CONTESTBELL_PUBLIC_URL" in line
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("key", ["dev-only-secret-change-me", "short", "a" * 40, "ab" * 20])
def test_a_known_short_or_trivial_key_is_refused_in_one_line(key, tmp_path):
    env = contestbell_env(database_url=f"sqlite://{tmp_path}/x.sqlite3", public_url="https://bell.example.org",
                          secret_key=key)
    result = contestbell("web", env=env)
    assert result.returncode == 2, result
    [line] = result.stderr.strip().splitlines()
    assert "CONTESTBELL_SECRET_KEY" in line and "Traceback" not in result.stderr


def test_the_rules(tmp_path):
    assert secret_key(Settings(secret_key=GOOD_KEY, public_url="https://x.org")) == GOOD_KEY
    with pytest.raises(SecretKeyProblem):
        secret_key(Settings(public_url="https://x.org", data_dir=tmp_path))
    made = secret_key(Settings(data_dir=tmp_path / "data"))
    assert len(made) >= 32 and secret_key(Settings(data_dir=tmp_path / "data")) == made
    assert secret_key(Settings(data_dir=tmp_path / "other")) != made
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.write_text("cut")
    with pytest.raises(SecretKeyProblem, match="delete it"):
        secret_key(Settings(data_dir=tmp_path / "data"))


async def test_run_on_a_laptop_needs_no_setting_and_keeps_its_key(db, tmp_path):
    data = tmp_path / "data"
    for attempt in range(2):
        port = free_port()
        env = contestbell_env(database_url=db, http_port=str(port), sites="none", data_dir=str(data))
        with running("run", env=env, log=tmp_path / "run.log"):
            await wait_until(lambda p=port: healthz_answers(p), 60, "contestbell run to start")
        key = (data / "secret_key").read_text()
        if attempt == 0:
            first = key
    assert key == first and len(key.strip()) >= 32


async def test_the_webhook_secret_is_the_operators_and_not_computable(db, tmp_path):
    fake = FakeTelegram()
    port = free_port()
    async with TestServer(fake.app, host="127.0.0.1") as api:
        env = contestbell_env(database_url=db, http_port=str(port), secret_key=GOOD_KEY, telegram_token=TOKEN,
                              telegram_api_base=str(api.make_url("")).rstrip("/"),
                              public_url="https://bell.example.org", data_dir=str(tmp_path))
        with running("web", env=env, log=tmp_path / "web.log"):
            await wait_until(lambda: healthz_answers(port), 60, "contestbell web to start")
            [registered] = await fake.wait_for("setWebhook", timeout=30)
            secret = registered.params["secret_token"]
            async with aiohttp.ClientSession() as session:
                statuses = []
                for guess in (OLD_COMPUTABLE, hashlib.sha256(b"telegram-webhook:None").hexdigest(), secret):
                    async with session.post(f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                                            data=json.dumps(private_message("/start")),
                                            headers={"X-Telegram-Bot-Api-Secret-Token": guess,
                                                     "Content-Type": "application/json"}) as response:
                        statuses.append(response.status)
    assert secret not in (OLD_COMPUTABLE, GOOD_KEY) and GOOD_KEY not in secret
    assert statuses == [401, 401, 200]
    assert not (tmp_path / "secret_key").exists()  # a configured key is never written anywhere
