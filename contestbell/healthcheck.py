"""The container healthcheck of each process kind (docker-compose.yml and the Dockerfile's HEALTHCHECK; `./dev stack`
runs the same commands): `python -m contestbell.healthcheck [web|worker|scheduler]`, exit 0 when healthy, 1 otherwise,
one line on stderr saying what failed.

- web: its own `/healthz` answers 200 on 127.0.0.1:CONTESTBELL_HTTP_PORT (the database answers; stale sites are
  listed there but do not make the process unhealthy).
- worker, scheduler: they serve no HTTP, so what they need must answer: the database and Redis. (A process that
  died is restarted by its supervisor, not found by this check.)

It reads only the environment's settings and imports neither the bot nor the web app, so it runs in well under a
second."""

from __future__ import annotations

import asyncio
import sys
import urllib.error
import urllib.request

from pydantic import ValidationError

from contestbell.settings import Settings

TIMEOUT = 4.0


def web_problem(settings: Settings) -> str | None:
    url = f"http://127.0.0.1:{settings.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return None if response.status == 200 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except OSError as error:
        return f"{url} does not answer: {error}"


async def connections_problem(settings: Settings) -> str | None:
    import redis.asyncio as aioredis

    if settings.database_url.startswith(("postgres://", "postgresql://")):
        import asyncpg

        try:
            connection = await asyncpg.connect(settings.database_url, timeout=TIMEOUT)
            await connection.close()
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            return f"the database does not answer: {type(error).__name__}"
    if settings.redis_url:
        client = aioredis.Redis.from_url(settings.redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as error:
            return f"Redis does not answer: {type(error).__name__}"
        finally:
            await client.aclose()
    return None


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else "web"
    if kind not in ("web", "worker", "scheduler"):
        print(f"usage: python -m contestbell.healthcheck [web|worker|scheduler], not {kind!r}", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"unhealthy: the settings are invalid ({error.error_count()} errors)", file=sys.stderr)
        return 1
    problem = web_problem(settings) if kind == "web" else asyncio.run(connections_problem(settings))
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
