"""Structured logs: one JSON object per line on stderr (``time``, ``level``, ``logger``,
``message``, and whatever the call adds with ``extra=``: ``campaign_id`` above all),
so that a log shipper or ``jq 'select(.campaign_id == 7)'`` can follow one campaign
through the server, the scheduler and its worker.

``mofront serve`` and each worker process call :func:`configure` once; a worker
passes its campaign id, which is then stamped on every record it writes, its
algorithm's included. ``MOFRONT_LOG_FORMAT=text`` gives plain lines instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

FORMATS = ("json", "text")
# Attributes every LogRecord has; anything else on a record came from ``extra=``
# (but uvicorn's ANSI-coloured copy of its message).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _CampaignId(logging.Filter):
    """Stamp ``campaign_id`` on every record that does not carry one."""

    def __init__(self, campaign_id: int):
        super().__init__()
        self.campaign_id = campaign_id

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "campaign_id", None) is None:
            record.campaign_id = self.campaign_id
        return True


def log_format() -> str:
    value = os.environ.get("MOFRONT_LOG_FORMAT", "json").strip().lower()
    return value if value in FORMATS else "json"


def configure(format: str | None = None, campaign_id: int | None = None,
              level: int = logging.INFO) -> None:
    """Send every logger's records (uvicorn's too) to stderr in ``format``."""
    handler = logging.StreamHandler(sys.stderr)
    if (format or log_format()) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if campaign_id is not None:
        handler.addFilter(_CampaignId(campaign_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
