"""Channels as planning sees them: only `reachable` is asked, so nothing is sent and no sender is needed."""

from __future__ import annotations

from notify.channel import Channel
from notify.email import EmailChannel
from notify.i18n import make_i18n
from notify.telegram import TelegramChannel


def planning_channels() -> list[Channel]:
    i18n = make_i18n()
    return [TelegramChannel(i18n, sender=None), EmailChannel(i18n, sender=None, base_url="http://127.0.0.1")]  # type: ignore[arg-type]
