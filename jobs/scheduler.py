"""The scheduler inside ``mofront serve``: launches queued campaigns on the executor,
watches their workers, and resumes or fails the ones that die.

A worker is dead when its process exits while the campaign is still ``running``, or
when its heartbeat is older than ``heartbeat_timeout`` and this server has no live
process for it (a worker left by a previous server). A dead campaign goes back to
``queued`` and resumes from its last checkpoint, up to ``max_attempts`` launches;
then it is ``failed`` with the reason. On start, campaigns left ``running`` by a
server that is gone are resumed; a restart does not count against their attempts.
Ask/tell campaigns (``runs_on = "client"``) are driven by their user, never launched.

An executor whose workers outlive the server (``ray``: detached actors) hands the
running ones to the next server (``Executor.adopt``); every other campaign left
``running`` then has no worker and is resumed at once. A cancelled campaign stops at
its worker's next recorded batch; one whose worker has not stopped ``cancel_grace``
seconds after the request is stopped by the executor.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.executors import Executor, Resources
from storage import Campaign, get_campaign

log = logging.getLogger("mofront.scheduler")

_RUNNING_ON_WORKERS = select(Campaign).where(
    Campaign.status == "running", Campaign.runs_on == "worker"
)


class Scheduler:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        executor: Executor,
        *,
        poll_seconds: float = 0.5,
        heartbeat_timeout: float = 30.0,
        cancel_grace: float = 5.0,
    ):
        self._sessions = sessions
        self._executor = executor
        self._poll_seconds = poll_seconds
        self._heartbeat_timeout = timedelta(seconds=heartbeat_timeout)
        self._cancel_grace = timedelta(seconds=cancel_grace)
        self._cancels_seen: dict[int, datetime] = {}
        self._waiting: dict[int, str] = {}  # why a queued campaign waits, as last written
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            adopted = self._executor.adopt()
        if adopted:
            log.info("adopted the running workers of campaigns %s", sorted(adopted))
        self.resume_orphans(all_others=adopted is not None)
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop launching and let go of the workers: those the executor stops (local
        subprocesses) have their campaigns queued again; those it leaves running (Ray
        actors) go on and are adopted by the next server."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            stopped = self._executor.shutdown()
            with self._sessions() as session:
                for campaign_id in stopped:
                    campaign = get_campaign(session, campaign_id)
                    if campaign is not None and campaign.status == "running":
                        self._requeue(campaign, "server stopped", counts=False)
                session.commit()

    def wake(self) -> None:
        """Run the next round now (a campaign was submitted), not at the next poll."""
        self._wake.set()

    def stop_campaign(self, campaign_id: int) -> None:
        with self._lock:
            self._executor.stop(campaign_id)

    def tick(self) -> None:
        """One round: reap ended workers, detect silent deaths, launch queued work."""
        with self._lock, self._sessions() as session:
            for campaign_id, how in self._executor.reap():
                self._cancels_seen.pop(campaign_id, None)
                campaign = get_campaign(session, campaign_id)
                if campaign is not None and campaign.status == "running":
                    self._worker_died(campaign, how)
            self._detect_silent_deaths(session)
            self._launch_queued(session)
            session.commit()

    def resume_orphans(self, *, all_others: bool = False) -> None:
        """Campaigns left ``running`` by a server that is gone go back to the queue: with
        ``all_others``, every one this executor is not running (it adopted the live
        workers it could see); else those whose worker process is gone or silent."""
        with self._lock, self._sessions() as session:
            mine = self._executor.running()
            for campaign in session.scalars(_RUNNING_ON_WORKERS):
                if campaign.id in mine:
                    continue
                if all_others or _worker_is_gone(campaign) or self._heartbeat_is_stale(campaign):
                    self._requeue(campaign, "resumed after a server restart", counts=False)
            session.commit()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception:  # the database may be briefly away: try again next round
                log.exception("scheduler round failed")

    def _detect_silent_deaths(self, session: Session) -> None:
        mine = self._executor.running()
        for campaign in session.scalars(_RUNNING_ON_WORKERS):
            if campaign.id in mine:
                if campaign.cancel_requested:
                    self._enforce_cancel(campaign.id)
                continue
            if _worker_is_gone(campaign) or self._heartbeat_is_stale(campaign):
                self._worker_died(campaign, "worker stopped sending heartbeats")

    def _launch_queued(self, session: Session) -> None:
        free = self._executor.capacity()
        if free <= 0:
            return
        queued = session.scalars(
            select(Campaign)
            .where(Campaign.status == "queued", Campaign.runs_on == "worker")
            .order_by(Campaign.id)
            .limit(free)
            .with_for_update(skip_locked=True)
        ).all()
        for campaign in queued:
            resources = Resources.of(campaign.spec)
            waiting = self._executor.wait_reason(resources)
            if waiting is not None:
                if campaign.message != waiting:
                    campaign.message = self._waiting[campaign.id] = waiting
                    session.commit()
                continue
            if campaign.message is not None and campaign.message == self._waiting.pop(
                    campaign.id, None):
                campaign.message = None
            campaign.status = "running"
            campaign.attempts += 1
            campaign.worker = None
            campaign.heartbeat_at = _now()
            session.flush()
            session.commit()
            self._executor.launch(campaign.id, resources)
            log.info("campaign %s launched (attempt %s)", campaign.id, campaign.attempts,
                     extra={"campaign_id": campaign.id})

    def _enforce_cancel(self, campaign_id: int) -> None:
        """Stop a cancelled campaign's worker if it has not stopped by itself in time."""
        seen = self._cancels_seen.setdefault(campaign_id, _now())
        if _now() - seen > self._cancel_grace:
            log.info("campaign %s: worker still running after cancel, stopping it", campaign_id,
                     extra={"campaign_id": campaign_id})
            self._executor.stop(campaign_id)
            self._cancels_seen[campaign_id] = _now()  # once per grace period, not each round

    def _worker_died(self, campaign: Campaign, reason: str) -> None:
        if campaign.cancel_requested:
            campaign.status = "cancelled"
            campaign.finished_at = _now()
        elif campaign.attempts >= campaign.max_attempts:
            last_error = f": {campaign.error}" if campaign.error else ""
            campaign.status = "failed"
            campaign.error = f"{reason} after {campaign.attempts} attempts{last_error}"
            campaign.finished_at = _now()
            log.warning("campaign %s failed: %s", campaign.id, campaign.error,
                        extra={"campaign_id": campaign.id})
        else:
            self._requeue(campaign, reason, counts=True)

    def _requeue(self, campaign: Campaign, reason: str, *, counts: bool) -> None:
        if not counts:
            campaign.attempts = max(0, campaign.attempts - 1)
        campaign.status = "queued"
        campaign.message = f"resuming from the last checkpoint ({reason})"
        log.info("campaign %s queued again: %s", campaign.id, reason,
                 extra={"campaign_id": campaign.id})

    def _heartbeat_is_stale(self, campaign: Campaign) -> bool:
        beat = campaign.heartbeat_at
        if beat is None:
            return True
        if beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        return _now() - beat > self._heartbeat_timeout


def _worker_is_gone(campaign: Campaign) -> bool:
    """True when the campaign's worker ran on this host and its process no longer exists."""
    host, _, pid = (campaign.worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _now() -> datetime:
    return datetime.now(UTC)
