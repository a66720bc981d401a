"""The taskiq side of fetching: the broker chosen by settings and the `fetch_site` task.

With Redis the broker is a ListQueueBroker: a fetch lost with a dying worker is simply kicked again at
the site's next interval, and (unlike the stream broker, see STACK_NOTES) its workers stop cleanly on
SIGTERM. Without Redis an in-memory broker runs the task inside the process that kicks it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.kicker import AsyncKicker
from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend

from fetchers.pipeline import FetchContext, FetchFailure, try_fetch, utcnow
from fetchers.registry import get_site
from models.contest import Site

FETCH_TASK = "contestbell.fetch_site"
QUEUE = "contestbell:tasks"
log = logging.getLogger(__name__)


#: a worker waits for a task in rounds this long, well inside redis-py's read timeout (5 s by default)
WAIT_ROUND = 2


class QueueBroker(ListQueueBroker):
    """taskiq-redis's list queue, waiting in short rounds. Its own BRPOP blocks for ever, so on an idle worker
    redis-py's 5 s read timeout ended the listener every 5 s (a WARNING with a traceback each time, and taskiq
    starting it again)."""

    async def listen(self) -> AsyncGenerator[bytes, None]:
        while True:
            try:
                async with Redis(connection_pool=self.connection_pool) as connection:
                    popped = await connection.brpop([self.queue_name], timeout=WAIT_ROUND)
            except RedisConnectionError as error:  # Redis restarting: say so once a second at most
                log.warning("the task queue is unreachable: %s", error)
                await asyncio.sleep(1)
                continue
            if popped is not None:
                yield popped[1]


def make_broker(redis_url: str | None) -> AsyncBroker:
    if not redis_url:
        return InMemoryBroker()
    backend = RedisAsyncResultBackend(redis_url, result_ex_time=600)
    return QueueBroker(redis_url, queue_name=QUEUE).with_result_backend(backend)


def register_fetch_task(broker: AsyncBroker, context: FetchContext) -> None:
    """Register `fetch_site` on a broker whose process will run it (a worker, or `contestbell run`)."""

    async def fetch_site(slug: str) -> dict[str, Any]:
        if await tried_moments_ago(slug):
            return {"site": slug, "skipped": "fetched moments ago"}
        # a failure is returned, not raised: the pipeline has logged it once, and taskiq would log it again
        result = await try_fetch(get_site(slug), context)
        return result.summary() if isinstance(result, FetchFailure) else {"site": slug, **result.summary()}

    broker.register_task(fetch_site, task_name=FETCH_TASK)


async def tried_moments_ago(slug: str) -> bool:
    """A kick that waited in the queue while another fetch of the site ran is dropped."""
    site = await Site.get(slug=slug)
    return site.last_try is not None and utcnow() - site.last_try < timedelta(seconds=site.every_seconds / 2)


async def kick_fetch(broker: AsyncBroker, slug: str) -> None:
    """Queue a fetch of `slug` (the process that kicks need not have the task registered)."""
    await AsyncKicker(task_name=FETCH_TASK, broker=broker, labels={}).kiq(slug)
