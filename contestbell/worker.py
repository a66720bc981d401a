"""The worker's task loop, stopped the clean way: on SIGTERM it takes no more tasks from the queue and waits for
the fetches in progress to finish and be recorded. (taskiq's `run_receiver_task` can only be cancelled, which cuts
the fetch in hand off and logs `WARNING The listenig task was cancelled.`)"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from taskiq import AsyncBroker
from taskiq.receiver import Receiver

log = logging.getLogger("contestbell.worker")


async def receive_tasks(broker: AsyncBroker, finish: asyncio.Event, max_async_tasks: int) -> None:
    """Run the broker's tasks until `finish` is set, then return once those in progress are done. Nothing bounds
    that wait here: a fetch ends within its own timeouts, and the supervisor's stop grace period is the backstop."""
    with ThreadPoolExecutor(max_workers=1) as executor:  # taskiq runs sync tasks there; ours are all async
        while not finish.is_set():
            receiver = Receiver(broker, executor, run_startup=False, max_async_tasks=max_async_tasks)
            try:
                await receiver.listen(finish)
            except Exception:  # as taskiq's own loop does: the listener is started again
                log.exception("the task listener failed; starting it again")
                await asyncio.sleep(1)
