"""The ``local`` executor: one worker subprocess per campaign, ``workers`` at a time.

Each worker is ``python -m jobs.worker`` in its own process, so a crashing campaign
(segfault, OOM, SIGKILL) never takes the server down. When the machine has GPUs, a
worker that asks for them gets its own through ``CUDA_VISIBLE_DEVICES``. On Linux the
worker asks to die with the server (``PR_SET_PDEATHSIG``, see ``jobs.worker``), so a
server that is killed leaves no orphan writing to the store; the next server resumes
the campaign from its checkpoint.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import IO

from jobs.executors import Resources


@dataclass
class LocalExecutor:
    database_url: str
    workers: int = 1
    gpu_ids: list[int] = field(default_factory=list)
    log_dir: str | None = None
    _processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _gpus_held: dict[int, list[int]] = field(default_factory=dict)

    def capacity(self) -> int:
        return max(0, self.workers - len(self._processes))

    def wait_reason(self, resources: Resources) -> str | None:
        return None  # a free slot is all a local worker needs

    def launch(self, campaign_id: int, resources: Resources) -> None:
        env = dict(os.environ, MOFRONT_SERVER_PID=str(os.getpid()))
        held = self._take_gpus(math.ceil(resources.gpus))
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, held)) if held else ""
        if not self.gpu_ids:
            env.pop("CUDA_VISIBLE_DEVICES")
        command = [sys.executable, "-m", "jobs.worker", "--db", self.database_url,
                   "--campaign", str(campaign_id)]
        with self._log_file(campaign_id) as output:
            self._processes[campaign_id] = subprocess.Popen(
                command, env=env, stdout=output, stderr=subprocess.STDOUT, close_fds=True
            )
        self._gpus_held[campaign_id] = held

    def _log_file(self, campaign_id: int) -> IO[bytes]:
        """The worker's stdout/stderr: a file per campaign under ``log_dir``, or nowhere."""
        if self.log_dir is None:
            return open(os.devnull, "wb")
        os.makedirs(self.log_dir, exist_ok=True)
        return open(os.path.join(self.log_dir, f"campaign-{campaign_id}.log"), "ab")

    def running(self) -> set[int]:
        return set(self._processes)

    def pid(self, campaign_id: int) -> int | None:
        process = self._processes.get(campaign_id)
        return process.pid if process is not None else None

    def reap(self) -> list[tuple[int, str]]:
        ended = []
        for campaign_id, process in list(self._processes.items()):
            code = process.poll()
            if code is not None:
                ended.append((campaign_id, f"worker exited with code {code}"))
                del self._processes[campaign_id]
                self._gpus_held.pop(campaign_id, None)
        return ended

    def adopt(self) -> None:
        return None  # a previous server's workers died with it (PR_SET_PDEATHSIG)

    def stop(self, campaign_id: int) -> None:
        process = self._processes.get(campaign_id)
        if process is not None and process.poll() is None:
            process.terminate()

    def shutdown(self, timeout: float = 10.0) -> set[int]:
        stopped = set(self._processes)
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        self._gpus_held.clear()
        return stopped

    def _take_gpus(self, count: int) -> list[int]:
        busy = {gpu for held in self._gpus_held.values() for gpu in held}
        free = [gpu for gpu in self.gpu_ids if gpu not in busy]
        if count == 0 and free:
            return free[:1]  # a worker on a GPU machine uses one GPU unless told otherwise
        return free[:count]


def visible_gpu_ids() -> list[int]:
    """GPU ids this server may hand out: CUDA_VISIBLE_DEVICES, else what nvidia-smi
    lists. (Asking torch would import it into the API process.)"""
    declared = os.environ.get("CUDA_VISIBLE_DEVICES")
    if declared is not None:
        return [int(part) for part in declared.split(",") if part.strip().isdigit()]
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [index for index, line in enumerate(listing.splitlines()) if line.startswith("GPU")]
