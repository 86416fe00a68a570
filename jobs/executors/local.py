"""The ``local`` executor: one worker subprocess per campaign, ``workers`` at a time.

Each worker is ``python -m jobs.worker`` in its own process, so a crashing campaign
(segfault, OOM, SIGKILL) never takes the server down. When the machine has GPUs, a
worker that asks for them gets its own through ``CUDA_VISIBLE_DEVICES``. On Linux the
worker asks to die with the server (``PR_SET_PDEATHSIG``, see ``jobs.worker``), so a
server that is killed leaves no orphan writing to the store; the next server resumes
the campaign from its checkpoint.

A spare worker (``python -m jobs.worker --standby``) is kept ready: it has already
imported torch and the algorithms, so a launch hands it the campaign over its stdin
and the campaign starts at once; a new spare is then started for the next launch. A
spare that keeps dying before it gets work (three times in a row) is given up, and
workers are started cold as before.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import IO

from jobs.executors import Resources

log = logging.getLogger("mofront.executor")
SPARE_ATTEMPTS = 3


@dataclass
class LocalExecutor:
    database_url: str
    workers: int = 1
    gpu_ids: list[int] = field(default_factory=list)
    log_dir: str | None = None
    spare: bool = True  # keep a spare worker ready (see the module docstring)
    _processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _gpus_held: dict[int, list[int]] = field(default_factory=dict)
    _spare: subprocess.Popen[bytes] | None = None
    _spare_deaths: int = 0

    def capacity(self) -> int:
        return max(0, self.workers - len(self._processes))

    def wait_reason(self, resources: Resources) -> str | None:
        return None  # a free slot is all a local worker needs

    def launch(self, campaign_id: int, resources: Resources) -> None:
        held = self._take_gpus(math.ceil(resources.gpus))
        # No GPUs on this machine: the worker inherits CUDA_VISIBLE_DEVICES untouched.
        visible = ",".join(map(str, held)) if self.gpu_ids else None
        process = self._assign_spare(campaign_id, visible)
        if process is None:
            env = self._worker_env()
            if visible is not None:
                env["CUDA_VISIBLE_DEVICES"] = visible
            command = [sys.executable, "-m", "jobs.worker", "--db", self.database_url,
                       "--campaign", str(campaign_id)]
            with self._log_file(f"campaign-{campaign_id}.log") as output:
                process = subprocess.Popen(
                    command, env=env, stdout=output, stderr=subprocess.STDOUT, close_fds=True
                )
        self._processes[campaign_id] = process
        self._gpus_held[campaign_id] = held
        self._start_spare()

    def _assign_spare(self, campaign_id: int, visible: str | None) -> subprocess.Popen[bytes] | None:
        """Hand the campaign to the spare worker; the spare, or None when there is none."""
        spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None or spare.stdin is None:
            return None
        log_path = self._log_path(f"campaign-{campaign_id}.log")
        assignment = {"campaign": campaign_id, "cuda_visible_devices": visible,
                      "log_path": log_path}
        try:
            spare.stdin.write(json.dumps(assignment).encode() + b"\n")
            spare.stdin.close()
        except OSError:  # it died just now: start this campaign cold
            spare.kill()
            spare.wait()
            return None
        self._spare_deaths = 0
        return spare

    def _start_spare(self) -> None:
        if not self.spare or self._spare is not None or self._spare_deaths >= SPARE_ATTEMPTS:
            return
        command = [sys.executable, "-m", "jobs.worker", "--db", self.database_url, "--standby"]
        with self._log_file("spare-worker.log") as output:
            self._spare = subprocess.Popen(
                command, env=self._worker_env(), stdin=subprocess.PIPE, stdout=output,
                stderr=subprocess.STDOUT, close_fds=True,
            )

    def _check_spare(self) -> None:
        """Replace a spare that died waiting; give up after SPARE_ATTEMPTS in a row."""
        if self._spare is not None and self._spare.poll() is not None:
            self._spare_deaths += 1
            log.warning("spare worker exited with code %s (%d of %d)", self._spare.returncode,
                        self._spare_deaths, SPARE_ATTEMPTS)
            self._spare = None
        self._start_spare()

    def _stop_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is None:
            return
        if spare.stdin is not None:
            spare.stdin.close()  # end of stdin: the spare exits by itself
        try:
            spare.wait(timeout=5)
        except subprocess.TimeoutExpired:  # still importing
            spare.kill()
            spare.wait()

    def _worker_env(self) -> dict[str, str]:
        return dict(os.environ, MOFRONT_SERVER_PID=str(os.getpid()))

    def _log_path(self, name: str) -> str | None:
        if self.log_dir is None:
            return None
        os.makedirs(self.log_dir, exist_ok=True)
        return os.path.join(self.log_dir, name)

    def _log_file(self, name: str) -> IO[bytes]:
        """A worker's stdout/stderr: the file ``name`` under ``log_dir``, or nowhere."""
        path = self._log_path(name)
        return open(path if path is not None else os.devnull, "ab")

    def running(self) -> set[int]:
        return set(self._processes)

    def pid(self, campaign_id: int) -> int | None:
        process = self._processes.get(campaign_id)
        return process.pid if process is not None else None

    def reap(self) -> list[tuple[int, str]]:
        self._check_spare()
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
        self._stop_spare()
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
