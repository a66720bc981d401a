"""The real client address behind a reverse proxy. nginx appends the address it saw to X-Forwarded-For; that
header is believed only when the direct peer is a trusted proxy (CONTESTBELL_TRUSTED_PROXIES), and then it is
read from the right: each trusted proxy's entry is skipped, the first address that is not a trusted proxy is the
client's. Whatever a client put at the left of the header itself is never taken for its address."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK = "127.0.0.1,::1"


def parse_networks(value: str) -> tuple[Network, ...]:
    """`127.0.0.1,::1,172.16.0.0/12` -> networks (a bare address is a network of one); empty: trust nobody.
    Raises ValueError naming the entry that is not an address or a network."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 127.0.0.1, 172.16.0.0/12)") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return mapped or address


def is_trusted(text: str | None, trusted: Sequence[Network]) -> bool:
    address = _address(text) if text else None
    return address is not None and any(address.version == n.version and address in n for n in trusted)


def real_client(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str | None:
    """The client's address: the peer's own unless the peer is a trusted proxy that says whom it forwards."""
    if not forwarded_for or not is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for hop in reversed(hops):
        if _address(hop) is None:
            return peer  # garbage in the chain: believe nothing a proxy passed on
        if not is_trusted(hop, trusted):
            return hop
    return hops[0]  # every hop is a proxy of ours: the first one asked


def real_client_address(trusted: Sequence[Network]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware: `request.remote` is the real client's address (for logs and limits) from here on."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        client = real_client(request.remote, request.headers.get("X-Forwarded-For"), trusted)
        if client != request.remote:
            request = request.clone(remote=client)
        return await handler(request)

    return middleware
