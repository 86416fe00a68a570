"""Two processes appending to one campaign at the same time (disjoint seqs): every
row is stored exactly once and ``on_front`` equals the brute-force front."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pareto import Sense, to_maximization
from storage import Evaluation, get_campaign, history
from tests.storage.store_helpers import brute_force_front_mask

REPO = Path(__file__).resolve().parents[2]
N_BATCHES, BATCH_SIZE = 20, 25


def test_two_processes_append_to_one_campaign(
    store_url: str, sessions: sessionmaker[Session], new_campaign: Callable[..., int]
) -> None:
    senses: list[Sense] = ["maximize", "minimize", "maximize"]
    campaign_id = new_campaign(senses=senses)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.append_worker", store_url, str(campaign_id), str(first_seq),
             str(N_BATCHES), str(BATCH_SIZE), str(first_seq)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for first_seq in (0, 1)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.communicate()[1]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert stdout.strip() == "done"

    total = 2 * N_BATCHES * BATCH_SIZE
    with sessions() as session:
        rows = session.scalars(
            select(Evaluation).where(Evaluation.campaign_id == campaign_id).order_by(Evaluation.seq)
        ).all()
        campaign = get_campaign(session, campaign_id)
        snapshots = history(session, campaign_id)
    assert [row.seq for row in rows] == list(range(total))
    points = to_maximization([row.objectives for row in rows], senses)
    expected = brute_force_front_mask(points)
    assert np.array_equal([row.on_front for row in rows], expected)
    assert campaign is not None
    assert (campaign.n_evaluations, campaign.front_size) == (total, int(expected.sum()))
    assert len(snapshots) == 2 * N_BATCHES
    assert sorted(s.n_evaluations for s in snapshots) == list(range(BATCH_SIZE, total + 1, BATCH_SIZE))
