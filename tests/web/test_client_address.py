"""The client's address behind nginx: X-Forwarded-For is believed only from a trusted proxy
(CONTESTBELL_TRUSTED_PROXIES), read from the right; a forged header from anybody else changes nothing. Observed where
web uses the address: the webhook's log line about a refused request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from bot.app import make_bot, make_dispatcher
from contestbell.settings import Settings
from contestbell.telegram import WEBHOOK_PATH, attach_webhook
from notify.i18n import make_i18n
from tests.fake_telegram import TOKEN, FakeTelegram
from web.app import make_web_app
from web.proxies import Network, parse_networks, real_client

SECRET = "client-address-secret"
LOOPBACK = parse_networks("127.0.0.1,::1")


def test_the_header_is_read_from_the_right_and_only_from_a_trusted_peer():
    proxies = parse_networks("127.0.0.1,::1,172.18.0.0/16")
    assert real_client("127.0.0.1", "198.51.100.7", proxies) == "198.51.100.7"
    # what the client wrote itself stays at the left; nginx appended the address it saw
    assert real_client("127.0.0.1", "203.0.113.9, 198.51.100.7", proxies) == "198.51.100.7"
    assert real_client("172.18.0.5", "198.51.100.7, 172.18.0.9", proxies) == "198.51.100.7"  # two proxies of ours
    assert real_client("::ffff:127.0.0.1", "2001:db8::1", proxies) == "2001:db8::1"
    assert real_client("127.0.0.1", None, proxies) == "127.0.0.1"
    assert real_client("127.0.0.1", "nonsense, 198.51.100.7", proxies) == "198.51.100.7"
    assert real_client("127.0.0.1", "198.51.100.7, nonsense", proxies) == "127.0.0.1"  # a broken chain: the peer
    assert real_client("127.0.0.1", "127.0.0.1", proxies) == "127.0.0.1"
    # a peer that is not a proxy of ours: its header is a claim like any other
    assert real_client("198.51.100.7", "127.0.0.1", proxies) == "198.51.100.7"
    assert real_client("127.0.0.2", "203.0.113.9", LOOPBACK) == "127.0.0.2"
    assert real_client("127.0.0.1", "203.0.113.9", parse_networks("")) == "127.0.0.1"


def test_the_setting_is_checked():
    assert Settings(trusted_proxies="10.0.0.0/8, ::1").trusted_proxy_networks() == parse_networks("10.0.0.0/8,::1")
    assert Settings().trusted_proxy_networks() == LOOPBACK
    with pytest.raises(ValidationError, match="'nginx' is not an IP address or network"):
        Settings(trusted_proxies="127.0.0.1,nginx")


@asynccontextmanager
async def webhook_app(trusted: tuple[Network, ...]) -> AsyncIterator[TestClient]:
    async with TestServer(FakeTelegram().app, host="127.0.0.1") as api:
        bot = make_bot(TOKEN, str(api.make_url("")).rstrip("/"))  # the bot says who it is when the app starts
        app = make_web_app(trusted_proxies=trusted)
        attach_webhook(app, make_dispatcher(make_i18n()), bot, SECRET)
        try:
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield client
        finally:
            await bot.session.close()


async def refused_from(client: TestClient, caplog: pytest.LogCaptureFixture, forwarded_for: str) -> str:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        response = await client.post(WEBHOOK_PATH, data=b"not an update", headers={
            "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json",
            "X-Forwarded-For": forwarded_for})
        assert response.status == 400
    [line] = [r.getMessage() for r in caplog.records if "refused a request from" in r.getMessage()]
    return line


@pytest.mark.db
async def test_a_trusted_proxy_names_the_client(db, caplog):
    async with webhook_app(LOOPBACK) as client:  # the test client's peer is 127.0.0.1, as nginx on the host is
        line = await refused_from(client, caplog, "203.0.113.9, 198.51.100.7")
    assert "refused a request from 198.51.100.7:" in line


@pytest.mark.db
async def test_a_forged_header_from_a_peer_that_is_not_a_proxy_is_not_believed(db, caplog):
    async with webhook_app(parse_networks("10.0.0.0/8")) as client:  # 127.0.0.1 is no proxy of ours here
        line = await refused_from(client, caplog, "198.51.100.7")
    assert "refused a request from 127.0.0.1:" in line
