"""The pages' own CSS, script and icon under /static, with the file's content hash in the address
(`/static/calendar.css?v=1a2b3c4d5e`): a versioned address may be cached for a year, since a new version of a
file gets a new address; an address without the current version is revalidated instead."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path

from aiohttp import web

from web.responses import etagged

STATIC = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"
CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


class Assets:
    """The files of `folder`, read once when the app is built (they are a few kilobytes)."""

    def __init__(self, folder: Path = STATIC) -> None:
        self.files = {
            path.name: Asset(path.read_bytes(), CONTENT_TYPES[path.suffix],
                             blake2b(path.read_bytes(), digest_size=5).hexdigest())
            for path in sorted(folder.iterdir()) if path.suffix in CONTENT_TYPES
        }

    def url(self, name: str) -> str:
        return f"{STATIC_PATH}/{name}?v={self.files[name].version}"

    async def serve(self, request: web.Request) -> web.Response:
        asset = self.files.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        current = request.query.get("v") == asset.version
        return etagged(request, asset.body, asset.content_type, cache_control=FOREVER if current else "no-cache")


ASSETS = web.AppKey("assets", Assets)


def add_asset_routes(app: web.Application) -> None:
    app[ASSETS] = Assets()
    app.router.add_get(STATIC_PATH + "/{name}", app[ASSETS].serve)
