"""The ``ray`` executor: each campaign is a detached, named Ray actor on a cluster.

``mofront serve --executor ray --ray-address ADDR`` connects the server to a Ray cluster
as a driver. A queued campaign becomes one actor, ``mofront-campaign-{id}`` in the
namespace ``mofront-{store}`` (``{store}``: a hash of the database URL, so two stores
sharing a cluster never see each other's actors), reserving the spec's
``resources.cpus`` and ``resources.gpus`` (a fraction shares a GPU); Ray picks the node
and sets ``CUDA_VISIBLE_DEVICES``. The actor runs :func:`jobs.worker.run`, the worker
code of the ``local`` executor, which writes every evaluation, checkpoint, heartbeat
and the final status straight to the shared store. Ray is the whole transport: no
queue, RPC or protocol of ours, and nothing but the exit code comes back through it.

Why detached named actors, not Ray tasks or Ray Jobs:

- A task, and a non-detached actor, share the fate of the process that created it:
  when the API server stops, Ray kills them. A *detached* actor belongs to the cluster,
  so the server can restart (upgrade, crash, SIGKILL) while campaigns keep running.
- A *name* lets a restarted server find them again: on start it lists the actors in
  its namespace, adopts them (:meth:`RayExecutor.adopt`) and waits on them as if it had
  launched them; every other campaign the store says is ``running`` lost its worker
  and is resumed from its checkpoint at once.
- The campaign runs in a thread the actor starts, not in the method call that
  launched it: a method's result belongs to the caller, so a restarted server could
  not wait on it. ``wait(timeout)`` may be called by any server, any number of times.
- Ray Jobs would start a driver process per campaign (a whole ``ray job submit`` with
  its runtime environment) for what is one worker process here, and report only a
  job status, which the store already holds.

Ray never restarts these actors (``max_restarts=0``): a killed worker process or a lost
node shows up here as the actor's death, and the scheduler queues the campaign again,
counting the attempt against ``max_attempts``, exactly as when a local worker dies; the
next actor resumes from the last checkpoint, and the store ignores the sequence numbers
it already has, so nothing is duplicated and nothing is lost.

Cancel: the worker's recorder raises ``Cancelled`` at its next recorded batch; a worker
that has not stopped within the scheduler's grace period is killed (``ray.kill``).

Placement: the scheduler launches a queued campaign when the cluster has its CPUs and
GPUs free (``ray.available_resources()``, less what launched actors have not yet
taken), so a sweep of many small campaigns runs as wide as the cluster is, and a
campaign that asks for more than any node has waits with a message saying so.

The store: PostgreSQL, reachable from every node. A SQLite file is refused unless every
node of the cluster is this machine, and its actors are then kept on this node.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from sqlalchemy.engine import make_url

from jobs import worker
from jobs.executors import Resources
from storage import database_url

log = logging.getLogger("mofront.executors.ray")

ACTOR_PREFIX = "mofront-campaign-"
MAX_LAUNCHES_PER_ROUND = 256
SNAPSHOT_SECONDS = 0.25  # how long one reading of the cluster's free resources is reused


class RayExecutorError(RuntimeError):
    """The Ray executor cannot run campaigns as configured (message says what to do)."""


class CampaignWorker:
    """The Ray actor: one campaign, run by :func:`jobs.worker.run` in a thread of this
    worker process (see the module docstring for why a thread)."""

    def __init__(self, store_url: str, campaign_id: int, threads: int):
        self._exit_code: int | None = None
        self._ended = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(store_url, campaign_id, threads),
            name=f"campaign-{campaign_id}", daemon=True,
        )
        self._thread.start()

    def _run(self, store_url: str, campaign_id: int, threads: int) -> None:
        try:
            self._exit_code = worker.run(store_url, campaign_id, threads)
        except BaseException:  # noqa: BLE001 -- the worker's own failure: report it as an exit code
            traceback.print_exc()
            self._exit_code = worker.EXIT_FAILED
        finally:
            self._ended.set()

    def wait(self, timeout: float) -> int | None:
        """The campaign's exit code once it has ended, or None after ``timeout`` s."""
        self._ended.wait(timeout)
        return self._exit_code

    def pid(self) -> int:
        return os.getpid()


@dataclass
class _Placement:
    actor: Any
    resources: Resources
    outcome: Any  # the ObjectRef of the pending ``wait`` call
    started: Any = None  # the ObjectRef of ``pid()``: ready once the actor is running


@dataclass
class _Snapshot:
    taken: float
    free: dict[str, float]
    largest: dict[str, float]  # the most CPUs and GPUs any one eligible node has


@dataclass
class RayExecutor:
    """Campaigns as detached Ray actors; see the module docstring."""

    database_url: str
    address: str | None = None
    max_campaigns: int | None = None  # at most this many at once (default: what fits)
    wait_seconds: float = 10.0  # how long one ``wait`` call blocks inside the actor
    _store_url: str = field(init=False)
    _placements: dict[int, _Placement] = field(default_factory=dict, init=False)
    _snapshot: _Snapshot | None = field(default=None, init=False)
    _local_node: str | None = field(default=None, init=False)
    _connected_here: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._store_url = worker_store_url(self.database_url)
        self._connected_here = connect(self.address, self._store_url)
        if _is_sqlite(self._store_url):  # the file is on this machine: keep the work here
            self._local_node = ray.get_runtime_context().get_node_id()

    @property
    def namespace(self) -> str:
        return store_namespace(self._store_url)

    def capacity(self) -> int:
        left = MAX_LAUNCHES_PER_ROUND
        if self.max_campaigns is not None:
            left = min(left, self.max_campaigns - len(self._placements))
        return max(0, left)

    def wait_reason(self, resources: Resources) -> str | None:
        snapshot = self._free_resources()
        asked = _ray_resources(resources)
        if any(amount > snapshot.largest.get(key, 0.0) + 1e-9 for key, amount in asked.items()):
            if self._local_node is not None:
                return (f"waiting: this machine's Ray node (a SQLite store keeps campaigns "
                        f"here) has {_describe(snapshot.largest)}, not {_describe(asked)}")
            return (f"waiting: no Ray node has {_describe(asked)}; the largest offers "
                    f"{_describe(snapshot.largest)}")
        if any(amount > snapshot.free.get(key, 0.0) + 1e-9 for key, amount in asked.items()):
            return f"waiting for {_describe(asked)} to free up on the Ray cluster"
        return None

    def launch(self, campaign_id: int, resources: Resources) -> None:
        options: dict[str, Any] = {
            "name": actor_name(campaign_id),
            "namespace": self.namespace,
            "lifetime": "detached",
            "num_cpus": resources.cpus,
            "num_gpus": resources.gpus,
            "max_restarts": 0,
            "max_concurrency": 8,  # ``wait`` calls from this server and ones gone, ``pid``
        }
        if self._local_node is not None:
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                self._local_node, soft=False)
        actor = self._create(campaign_id, options, max(1, int(resources.cpus)))
        self._placements[campaign_id] = _Placement(
            actor, resources, outcome=actor.wait.remote(self.wait_seconds),
            started=actor.pid.remote(),
        )
        if self._snapshot is not None:
            for key, amount in _ray_resources(resources).items():
                self._snapshot.free[key] = self._snapshot.free.get(key, 0.0) - amount

    def _create(self, campaign_id: int, options: dict[str, Any], threads: int) -> Any:
        """Create the actor; an actor of an earlier attempt still holding the name (the
        scheduler gave up on it: silent, or stopped too late) is killed first."""
        remote = _remote_campaign_worker()
        deadline = time.monotonic() + 10
        while True:
            try:
                return remote.options(**options).remote(self._store_url, campaign_id, threads)
            except ValueError:  # the name is taken
                if time.monotonic() > deadline:
                    raise
                try:
                    ray.kill(ray.get_actor(options["name"], namespace=self.namespace),
                             no_restart=True)
                except ValueError:
                    pass  # gone in the meantime
                time.sleep(0.2)

    def running(self) -> set[int]:
        return set(self._placements)

    def reap(self) -> list[tuple[int, str]]:
        pending = {placement.outcome: campaign_id
                   for campaign_id, placement in self._placements.items()}
        if not pending:
            return []
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
        ended = []
        for ref in ready:
            campaign_id = pending[ref]
            placement = self._placements[campaign_id]
            try:
                code = ray.get(ref)
            except ray.exceptions.ActorUnavailableError:
                # unreachable: a network blip, or its node is going; ask again until Ray
                # declares the actor dead (ActorDiedError: then it is resumed elsewhere)
                code = None
            except ray.exceptions.RayActorError as exc:
                del self._placements[campaign_id]
                ended.append((campaign_id, _death(exc)))
                continue
            if code is None:
                placement.outcome = placement.actor.wait.remote(self.wait_seconds)
                continue
            del self._placements[campaign_id]
            ray.kill(placement.actor, no_restart=True)  # done: free its CPUs and GPUs
            ended.append((campaign_id, f"worker exited with code {code}"))
        return ended

    def adopt(self) -> set[int]:
        """Take over the campaign actors a previous server left running on the cluster."""
        adopted: set[int] = set()
        for entry in ray.util.list_named_actors(all_namespaces=True):
            name = entry["name"]
            campaign_id = campaign_of(name)
            if entry["namespace"] != self.namespace:
                continue
            if campaign_id is None or campaign_id in self._placements:
                continue
            try:
                actor = ray.get_actor(name, namespace=self.namespace)
            except ValueError:
                continue  # it ended in the meantime
            self._placements[campaign_id] = _Placement(
                actor, Resources(cpus=0.0), outcome=actor.wait.remote(self.wait_seconds))
            adopted.add(campaign_id)
        return adopted

    def stop(self, campaign_id: int) -> None:
        placement = self._placements.get(campaign_id)
        if placement is not None:
            ray.kill(placement.actor, no_restart=True)  # ``reap`` then sees it die

    def shutdown(self) -> set[int]:
        """Disconnect and leave every campaign running: the next server adopts them."""
        self._placements.clear()
        if self._connected_here:
            ray.shutdown()
        return set()

    def _free_resources(self) -> _Snapshot:
        now = time.monotonic()
        if self._snapshot is not None and now - self._snapshot.taken < SNAPSHOT_SECONDS:
            return self._snapshot
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        if self._local_node is not None:
            nodes = [node for node in nodes if node.get("NodeID") == self._local_node]
        largest = {key: max((float(node["Resources"].get(key, 0.0)) for node in nodes),
                            default=0.0) for key in ("CPU", "GPU")}
        free = {key: float(value) for key, value in ray.available_resources().items()}
        starting = {p.started: p for p in self._placements.values() if p.started is not None}
        if starting:  # launched but not yet placed: Ray has not counted them yet
            ready, waiting = ray.wait(list(starting), num_returns=len(starting), timeout=0)
            for ref in ready:
                starting[ref].started = None
            for ref in waiting:
                for key, amount in _ray_resources(starting[ref].resources).items():
                    free[key] = free.get(key, 0.0) - amount
        self._snapshot = _Snapshot(taken=now, free=free, largest=largest)
        return self._snapshot


def connect(address: str | None, store_url: str) -> bool:
    """Connect this process to the Ray cluster as a driver, in the store's namespace,
    and check that the cluster's workers can reach the store. ``address``: what
    ``ray.init`` takes (``HOST:PORT`` of the head, ``ray://HOST:10001``), default
    ``auto`` (the cluster ``ray start`` runs on this machine). Returns whether it
    connected (False: this process already was)."""
    address = address or os.environ.get("RAY_ADDRESS") or "auto"
    if _is_sqlite(store_url) and not make_url(store_url).database:
        raise RayExecutorError("an in-memory SQLite store cannot be shared with Ray workers: "
                               "give a SQLite file, or PostgreSQL for a cluster")
    connected_here = not ray.is_initialized()
    if connected_here:
        try:
            ray.init(address=address, namespace=store_namespace(store_url),
                     log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 -- Ray fails to connect in many ways; all are the user's to fix
            raise RayExecutorError(_connect_advice(address, exc)) from None
    try:
        nodes = [node["NodeManagerAddress"] for node in ray.nodes() if node.get("Alive")]
        check_store_reachable(store_url, nodes, this_machine())
    except BaseException:
        if connected_here:
            ray.shutdown()
        raise
    log.info("connected to the Ray cluster at %s (%d nodes, %s)", address, len(nodes),
             ray.cluster_resources())
    return connected_here


@cache
def _remote_campaign_worker() -> Any:
    return ray.remote(CampaignWorker)


def check_store_reachable(store_url: str, node_addresses: list[str],
                          here: set[str]) -> None:
    """Refuse a SQLite store when any node of the cluster is another machine: a SQLite
    file is on this machine's disk, and workers elsewhere cannot write to it."""
    if not _is_sqlite(store_url):
        return
    elsewhere = sorted(set(node_addresses) - here)
    if elsewhere:
        raise RayExecutorError(
            f"the store is a SQLite file on this machine ({make_url(store_url).database}), "
            f"but the Ray cluster has nodes on other machines ({', '.join(elsewhere)}) "
            "whose workers cannot write to it. A cluster needs a store every node reaches: "
            "--db postgresql://USER@HOST/DATABASE (SQLite works with Ray only when the "
            "whole cluster is this one machine)"
        )


def this_machine() -> set[str]:
    """The addresses by which Ray may know this machine's node."""
    addresses = {"127.0.0.1", "::1", "localhost", ray.util.get_node_ip_address()}
    try:
        addresses.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return addresses


def worker_store_url(value: str) -> str:
    """The store's URL as a worker on any node must see it: a SQLite path made absolute
    (Ray workers do not run in the server's working directory)."""
    url = make_url(database_url(value))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.abspath(url.database))
    return url.render_as_string(hide_password=False)


def store_namespace(store_url: str) -> str:
    """The Ray namespace of one store's campaign actors: ``mofront-`` and a hash of the
    store's URL without its password."""
    shown = make_url(store_url).render_as_string(hide_password=True)
    return f"mofront-{hashlib.sha256(shown.encode()).hexdigest()[:12]}"


def actor_name(campaign_id: int) -> str:
    return f"{ACTOR_PREFIX}{campaign_id}"


def campaign_of(name: str) -> int | None:
    suffix = name.removeprefix(ACTOR_PREFIX)
    return int(suffix) if name.startswith(ACTOR_PREFIX) and suffix.isdigit() else None


def _is_sqlite(store_url: str) -> bool:
    return make_url(store_url).get_backend_name() == "sqlite"


def _ray_resources(resources: Resources) -> dict[str, float]:
    return {"CPU": resources.cpus, "GPU": resources.gpus}


def _describe(amounts: dict[str, float]) -> str:
    cpus, gpus = amounts.get("CPU", 0.0), amounts.get("GPU", 0.0)
    return f"{cpus:g} CPU{'s' if cpus != 1 else ''} and {gpus:g} GPU{'s' if gpus != 1 else ''}"


def _death(exc: BaseException) -> str:
    """``Ray actor died (...)`` with Ray's reason, short enough for ``campaign.error``."""
    text = str(exc)
    _, _, because = text.partition("The actor is dead because ")
    reason = " ".join((because or text.splitlines()[0] if text else type(exc).__name__).split())
    return f"Ray actor died ({reason[:300].rstrip('.')})"


def _connect_advice(address: str, exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    first = " ".join(str(cause).split())[:300]
    advice = (f"cannot connect to the Ray cluster at {address!r}: {first}. Start one with "
              "`ray start --head` (on this machine, or pass its head as --ray-address "
              "HOST:6379)")
    if "auth" in str(cause).lower() or "token" in str(cause).lower():
        advice += ("; the cluster uses token authentication: set RAY_AUTH_MODE=token here "
                   "and give its token (~/.ray/auth_token, RAY_AUTH_TOKEN_PATH or "
                   "RAY_AUTH_TOKEN)")
    return advice
