"""Server settings, from the command line or ``MOFRONT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("MOFRONT_DB", "mofront.db"))
    host: str = "127.0.0.1"
    port: int = 8000
    executor: str = "local"
    workers: int | None = None  # default: one per GPU, else 1
    heartbeat_timeout: float = field(
        default_factory=lambda: _env_float("MOFRONT_HEARTBEAT_TIMEOUT", 30.0)
    )
    poll_seconds: float = field(default_factory=lambda: _env_float("MOFRONT_POLL_SECONDS", 0.5))
    log_dir: str | None = field(default_factory=lambda: os.environ.get("MOFRONT_LOG_DIR"))
    run_scheduler: bool = True
