"""(being written)"""

from aiohttp import web


def add_page_routes(app: web.Application) -> None:
    pass
