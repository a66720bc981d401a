"""(being written)"""

from aiohttp import web


def add_api_routes(app: web.Application) -> None:
    pass
