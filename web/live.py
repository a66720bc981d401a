"""`/ws`: live pages hear about contest changes (new, moved, cancelled, renamed) as ingest notices them.

The web process holds one subscription to the event bus (Redis pub/sub when configured, so every web process
hears every worker; in-process otherwise) and forwards each change to every open WebSocket as JSON:
`{"type": "change", "kind": ..., "site": ..., "key": ..., "title": ..., "start": ..., ...}`. A new socket is
greeted with `{"type": "hello"}`, so a client knows from when on it hears changes. Pages send nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from contextlib import suppress

from aiohttp import WSCloseCode, web

from fetchers.changes import Event
from models.metrics import WEBSOCKET_CLIENTS
from web.changes import listen

log = logging.getLogger("contestbell.web.live")

LIVE_PATH = "/ws"
#: a socket that has this much unsent is too slow to keep up: it is closed rather than slowing the others
MAX_BACKLOG = 1 << 20
HELLO = json.dumps({"type": "hello"})


class LiveHub:
    """The open sockets of this process, and sending one message to all of them."""

    def __init__(self) -> None:
        self.sockets: dict[web.WebSocketResponse, asyncio.BaseTransport] = {}
        HUBS.add(self)

    def join(self, socket: web.WebSocketResponse, transport: asyncio.BaseTransport) -> None:
        self.sockets[socket] = transport

    def leave(self, socket: web.WebSocketResponse) -> None:
        self.sockets.pop(socket, None)

    async def changed(self, events: list[Event]) -> None:
        for event in events:
            await self.broadcast(event)

    async def broadcast(self, event: Event) -> None:
        """Serialised once, written to every socket; slow or gone sockets are dropped, never waited for."""
        message = json.dumps({"type": "change", **event})
        for socket, transport in list(self.sockets.items()):
            if socket.closed or transport.is_closing():
                self.leave(socket)
            elif isinstance(transport, asyncio.WriteTransport) and transport.get_write_buffer_size() > MAX_BACKLOG:
                self.leave(socket)
                await socket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
            else:
                with suppress(ConnectionError, RuntimeError):
                    await socket.send_str(message)

    async def close_all(self) -> None:
        """Shutdown: every socket is told 1001 (Going Away) at once, so clients that do not answer the close cost
        one close timeout in all, not one each."""
        sockets = list(self.sockets)
        self.sockets.clear()
        await asyncio.gather(*(going_away(socket) for socket in sockets))


async def going_away(socket: web.WebSocketResponse) -> None:
    with suppress(ConnectionError, RuntimeError):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


HUB = web.AppKey("live_hub", LiveHub)
#: every hub of the process (one per app), for the gauge of open sockets
HUBS: weakref.WeakSet[LiveHub] = weakref.WeakSet()
WEBSOCKET_CLIENTS.set_function(lambda: sum(len(hub.sockets) for hub in list(HUBS)))


async def live(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    hub = request.app[HUB]
    if request.transport is None:  # the client went away while we answered
        return socket
    hub.join(socket, request.transport)
    try:
        await socket.send_str(HELLO)
        async for _message in socket:  # pages send nothing; this loop ends when the socket closes
            pass
    finally:
        hub.leave(socket)
    return socket


async def close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


def add_live_routes(app: web.Application) -> None:
    app[HUB] = LiveHub()
    app.router.add_get(LIVE_PATH, live)
    listen(app, app[HUB])
    app.on_shutdown.append(close_sockets)
