"""Callback data shared between features: /settings opens any feature's screen with this button."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class OpenSection(CallbackData, prefix="open"):
    """Show a feature's screen as its command without arguments would (`section` is the command name)."""

    section: str
