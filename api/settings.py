"""Server settings, from the command line or ``MOFRONT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from jobs.spec import MAX_ENV_STEPS, MAX_EVALUATIONS


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _limit(name: str, default: int) -> Any:
    """A field whose default is read from MOFRONT_<NAME> when a Settings is made."""
    return field(default_factory=lambda: _env_int(f"MOFRONT_{name.upper()}", default))


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("MOFRONT_DB", "mofront.db"))
    host: str = "127.0.0.1"
    port: int = 8000
    executor: str = field(default_factory=lambda: os.environ.get("MOFRONT_EXECUTOR", "local"))
    # local: campaigns at once (default: one per GPU, else 1); ray: at most this many at
    # once (default: as many as the cluster's free CPUs and GPUs allow)
    workers: int | None = None
    # ray: the cluster's address (HOST:PORT of its head; default: $RAY_ADDRESS, else
    # the cluster `ray start` runs on this machine)
    ray_address: str | None = field(
        default_factory=lambda: os.environ.get("MOFRONT_RAY_ADDRESS") or None
    )
    heartbeat_timeout: float = field(
        default_factory=lambda: _env_float("MOFRONT_HEARTBEAT_TIMEOUT", 30.0)
    )
    poll_seconds: float = field(default_factory=lambda: _env_float("MOFRONT_POLL_SECONDS", 0.5))
    log_dir: str | None = field(default_factory=lambda: os.environ.get("MOFRONT_LOG_DIR"))
    # local: keep a spare worker with torch and the algorithms imported, so a campaign
    # starts at once (MOFRONT_SPARE_WORKER=0 turns it off; it costs one idle process)
    spare_worker: bool = field(
        default_factory=lambda: os.environ.get("MOFRONT_SPARE_WORKER", "1").strip().lower()
        not in ("0", "false", "no", "off")
    )
    run_scheduler: bool = True
    # Every /api/v1 route but /healthz needs a token, even while none exists yet. Without
    # it, tokens are needed once any exists (see api.auth). `mofront serve` sets it when
    # it binds to a non-loopback address.
    require_token: bool = field(default_factory=lambda: _env_flag("MOFRONT_REQUIRE_TOKEN"))
    # Limits on one request (api.limits); each from MOFRONT_<NAME IN CAPITALS>.
    max_body_bytes: int = _limit("max_body_bytes", 4 * 2**20)
    max_page_size: int = _limit("max_page_size", 10_000)
    max_objectives: int = _limit("max_objectives", 10)
    max_parameters: int = _limit("max_parameters", 1000)
    max_evaluations: int = _limit("max_evaluations", MAX_EVALUATIONS)
    max_env_steps: int = _limit("max_env_steps", MAX_ENV_STEPS)
