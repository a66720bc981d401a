"""What the web app's parts share, stored on the application: the gettext catalogs, the event bus and the
public address that links are built from."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiohttp import web

from fetchers.events import EventBus

I18N = web.AppKey("i18n", I18n)
BUS = web.AppKey("bus", EventBus)
#: e.g. "https://contestbell.example.org" (no trailing slash): personal feed and email links start with it
PUBLIC_URL = web.AppKey("public_url", str)
