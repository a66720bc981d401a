"""When a service we depend on is down: which errors mean "the database is not there" (as opposed to a bug of
ours), and saying so in the log once in a while instead of once per request or retry."""

from __future__ import annotations

import logging
import time

from asyncpg.exceptions import InsufficientResourcesError, OperatorInterventionError, PostgresConnectionError
from tortoise.exceptions import DBConnectionError

#: refused or dropped connections and timeouts (OSError), a server shutting down or starting up, out of
#: connections: the database is unavailable for now, and a retry later may work
DATABASE_DOWN = (OSError, PostgresConnectionError, OperatorInterventionError, InsufficientResourcesError,
                 DBConnectionError)
#: while something stays down, one line per this many seconds
COMPLAIN_EVERY = 5.0


class Complaints:
    """Says that something is down at most once per `every` seconds (with how often it failed meanwhile), and
    says when it works again."""

    def __init__(self, what: str, log: logging.Logger, every: float = COMPLAIN_EVERY) -> None:
        self.what, self.log, self.every = what, log, every
        self.since: float | None = None
        self.said_at, self.unsaid = float("-inf"), 0

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        self.unsaid += 1
        if now - self.said_at >= self.every:
            detail = str(error).splitlines()[0][:200] if str(error) else ""
            self.log.warning("%s is unavailable: %s%s (%d failures in the last %.0f s)", self.what,
                             type(error).__name__, f": {detail}" if detail else "", self.unsaid,
                             min(now - self.said_at, now - self.since))
            self.said_at, self.unsaid = now, 0

    def worked(self) -> None:
        if self.since is not None:
            self.log.info("%s works again after %.0f s", self.what, time.monotonic() - self.since)
            self.since, self.said_at, self.unsaid = None, float("-inf"), 0
