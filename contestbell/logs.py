"""How a process writes its log (CONTESTBELL_LOG_FORMAT): a readable line per record, or one JSON object per line
for a log store (Loki): time, level, logger, message, and the context the call passed with `extra=` (site,
account_id, chat_id, ...); a traceback goes into the same object, so a record is always one line. Every record is
also counted by level (the contestbell_log_messages_total metric)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from models.metrics import LOG_MESSAGES

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: attributes every record has; anything else on a record came from `extra=`
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def context(record: logging.LogRecord) -> dict[str, Any]:
    """What the call passed with `extra=`."""
    return {key: value for key, value in vars(record).items() if key not in STANDARD_ATTRIBUTES}


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (non-ASCII and line breaks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class CountByLevel(logging.Handler):
    """Counts the records that reach the root logger, by level (an error rate without reading the log)."""

    def emit(self, record: logging.LogRecord) -> None:
        LOG_MESSAGES.labels(record.levelname).inc()


def formatter(log_format: str) -> logging.Formatter:
    return JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, log_format: str) -> None:
    """The root logger writes to stderr in the chosen format and counts what it writes (a root logger that has
    handlers already is left as it is, as logging.basicConfig does)."""
    output = logging.StreamHandler()
    output.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[output, CountByLevel()])
    if log_format == "json":  # Python's warnings as records too, so that every line of the output is JSON
        logging.captureWarnings(True)
