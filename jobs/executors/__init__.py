"""Where campaigns run. An executor launches a worker for a campaign and reports the
workers that ended; the scheduler decides what to launch and what a death means."""

from __future__ import annotations

from typing import Protocol


class Executor(Protocol):
    def capacity(self) -> int:
        """How many more campaigns can start now."""
        ...

    def launch(self, campaign_id: int, gpus: int) -> None: ...

    def running(self) -> set[int]: ...

    def reap(self) -> list[tuple[int, int]]:
        """The workers that ended since the last call, as (campaign_id, exit code)."""
        ...

    def stop(self, campaign_id: int) -> None: ...

    def shutdown(self) -> None: ...
