"""The bot under test (tests/bot/conftest.py) for the commands that set up digests and Discord."""

from tests.bot.conftest import telegram

__all__ = ["telegram"]
