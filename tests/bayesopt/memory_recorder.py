"""An in-memory test double of the ``jobs.protocol.Recorder`` contract (not of our storage).

Seqs are assigned in order, a resumed recorder restarts them at the checkpoint, and
re-recording a stored seq is a no-op — it also notes when a re-recorded item differs
from the stored one, which a faithful resume must never do. ``log`` values are kept per
recorded batch, as the store keeps them per history row.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jobs.protocol import Evaluated


class SimulatedCrash(Exception):
    """Stands for the worker process dying mid-campaign."""


@dataclass
class MemoryStore:
    evaluations: dict[int, Evaluated] = field(default_factory=dict)
    checkpoint: tuple[int, dict[str, Any]] | None = None  # (next seq, algorithm state)


class MemoryRecorder:
    def __init__(
        self,
        budget: float,
        store: MemoryStore | None = None,
        fail_on_record: int | None = None,
        fail_on_checkpoint: int | None = None,
        fail_with: type[Exception] = SimulatedCrash,
    ) -> None:
        self._budget = budget
        self.store = store if store is not None else MemoryStore()
        self.fail_on_record = fail_on_record
        self.fail_on_checkpoint = fail_on_checkpoint
        self.fail_with = fail_with
        self.next_seq = 0
        self.batch_sizes: list[int] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.conflicts: list[int] = []
        self.logs: list[dict[str, float]] = []  # what was logged before each recorded batch
        self._logged: dict[str, float] = {}

    @property
    def budget(self) -> float:
        return self._budget

    @property
    def budget_used(self) -> float:
        return sum(e.cost for s, e in self.store.evaluations.items() if s < self.next_seq)

    def record(self, items: Sequence[Evaluated]) -> None:
        if len(self.batch_sizes) + 1 == self.fail_on_record:
            raise self.fail_with("record")
        for item in items:
            stored = self.store.evaluations.setdefault(self.next_seq, item)
            if stored is not item and stored != item:
                self.conflicts.append(self.next_seq)
            self.next_seq += 1
        self.batch_sizes.append(len(items))
        self.logs.append(self._logged)
        self._logged = {}

    def progress(self, budget_used: float, message: str | None = None) -> None:
        pass

    def checkpoint(self, state: dict[str, Any]) -> None:
        if len(self.checkpoints) + 1 == self.fail_on_checkpoint:
            raise self.fail_with("checkpoint")
        self.checkpoints.append(copy.deepcopy(state))
        self.store.checkpoint = (self.next_seq, copy.deepcopy(state))

    def restore(self) -> dict[str, Any] | None:
        if self.store.checkpoint is None:
            return None
        self.next_seq, state = self.store.checkpoint
        return copy.deepcopy(state)

    def log(self, **values: float) -> None:
        self._logged.update(values)

    def points(self) -> np.ndarray:
        """The stored parameters in seq order, as an n x d array."""
        rows = [self.store.evaluations[s].params for s in sorted(self.store.evaluations)]
        assert sorted(self.store.evaluations) == list(range(len(rows)))
        return np.array([list(r.values()) for r in rows]).reshape(len(rows), -1)

    def evaluations(self) -> list[Evaluated]:
        """The stored evaluations in seq order."""
        return [self.store.evaluations[s] for s in sorted(self.store.evaluations)]
