"""Where campaigns run. An executor launches a worker for a campaign and reports the
workers that ended; the scheduler decides what to launch and what a death means.

``local`` (``jobs.executors.local``) runs workers as subprocesses of the server;
``ray`` (``jobs.executors.ray``, imported only when chosen, so the server never
imports Ray otherwise) runs them as detached actors on a Ray cluster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Resources:
    """What a campaign's worker holds while it runs (the spec's ``resources``)."""

    cpus: float = 1.0
    gpus: float = 0.0

    @classmethod
    def of(cls, spec: dict[str, Any] | None) -> Resources:
        asked = (spec or {}).get("resources") or {}
        return cls(cpus=float(asked.get("cpus", 1.0)), gpus=float(asked.get("gpus", 0.0)))


class Executor(Protocol):
    def capacity(self) -> int:
        """How many more campaigns can start now."""
        ...

    def wait_reason(self, resources: Resources) -> str | None:
        """Why a campaign asking for ``resources`` cannot start now, or None if it can."""
        ...

    def launch(self, campaign_id: int, resources: Resources) -> None: ...

    def running(self) -> set[int]: ...

    def reap(self) -> list[tuple[int, str]]:
        """The workers that ended since the last call, as (campaign_id, how it ended)."""
        ...

    def adopt(self) -> set[int] | None:
        """Take charge of the workers a previous server left running: their campaign ids.

        None when this executor cannot see such workers (``local``: they died with
        their server); then the scheduler judges them by pid and heartbeat."""
        ...

    def stop(self, campaign_id: int) -> None: ...

    def shutdown(self) -> set[int]:
        """Let go of the workers as the server stops; returns the campaigns whose workers
        it stopped (they go back to the queue). Workers it leaves running (``ray``) are
        adopted by the next server."""
        ...
