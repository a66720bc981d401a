"""(being written)"""

from aiohttp import web


def add_feed_routes(app: web.Application) -> None:
    pass
