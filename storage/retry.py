"""Retry one unit of store work when the database connection is lost.

A PostgreSQL server that restarts, fails over, or has its backends terminated
(``pg_terminate_backend``) breaks the connections a worker holds; without a retry the
campaign's worker would die and the campaign would spend one of its attempts. Each
unit a worker retries opens its own session and is idempotent — appending a batch
skips seqs already stored, saving a checkpoint overwrites it, storing an artifact
finds the identical blob — so running it again after a connection died, even one
that died after the commit reached the server, stores nothing twice.

Retried: errors SQLAlchemy marks ``connection_invalidated`` (the connection broke
under a statement; the pool then discards it) and failures to connect at all (the
server is not back yet). Anything else — a constraint, a bad query — is raised at
once. Back-off doubles from 50 ms to 5 s, for at most ``MOFRONT_DB_RETRY_SECONDS``
(default 120 s) in all.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")
log = logging.getLogger("mofront.storage")

FIRST_DELAY_SECONDS, MAX_DELAY_SECONDS = 0.05, 5.0


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` says the connection broke or could not be made."""
    if not isinstance(error, DBAPIError):
        return False
    return bool(error.connection_invalidated) or (
        isinstance(error, OperationalError) and error.statement is None)


def retry_on_disconnect(operation: Callable[[], T], what: str, *,
                        timeout: float | None = None, **log_extra: Any) -> T:
    """``operation()``, run again with back-off while it fails because the database
    connection was lost; ``what`` and ``log_extra`` (e.g. ``campaign_id``) go into the
    warning logged for each retry."""
    if timeout is None:
        timeout = float(os.environ.get("MOFRONT_DB_RETRY_SECONDS", "120"))
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY_SECONDS
    attempt = 1
    while True:
        try:
            return operation()
        except DBAPIError as error:
            if not connection_lost(error) or time.monotonic() + delay > deadline:
                raise
            reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            log.warning("%s: database connection lost (%s); retry %d in %.2f s", what, reason,
                        attempt, delay, extra={**log_extra, "retry": attempt})
        time.sleep(delay)
        delay = min(delay * 2, MAX_DELAY_SECONDS)
        attempt += 1
