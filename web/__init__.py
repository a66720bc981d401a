"""The aiohttp application: health, and (later) pages, JSON API, iCal feeds, OAuth, WebSocket, webhook."""
