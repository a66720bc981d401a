"""How a process wires accounts from its settings: which sign-in providers are on, and the bot's name for the Login
Widget, which a page never waits for long."""

from __future__ import annotations

import logging
import time

from contestbell.accounts import BotName, providers
from contestbell.settings import Settings
from tests.proxy import black_hole


def test_only_completely_configured_providers_are_on(caplog):
    with caplog.at_level(logging.WARNING):
        found = providers(Settings(oidc_issuer="https://id.example.org", oidc_client_id="a", oidc_client_secret="b",
                                   oidc_name="Example", github_client_id="only-half"))
    assert [(p.slug, p.label, p.issuer) for p in found] == [("oidc", "Example", "https://id.example.org")]
    assert "GitHub sign-in is off" in caplog.text
    assert providers(Settings()) == ()


async def test_a_silent_telegram_costs_a_page_seconds_once_a_minute():
    async with black_hole() as port:
        name = BotName(Settings(telegram_token="123:abc", telegram_api_base=f"http://127.0.0.1:{port}"))
        try:
            started = time.monotonic()
            assert await name() is None
            first = time.monotonic() - started
            started = time.monotonic()
            assert await name() is None  # not asked again within the minute
            again = time.monotonic() - started
        finally:
            await name.close()
    assert first < 5 and again < 0.1
