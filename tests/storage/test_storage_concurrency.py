"""Processes appending to one campaign at the same time (disjoint seqs), with readers
querying its front meanwhile: every row is stored exactly once, ``on_front`` equals
the brute-force front, and every front read is mutually non-dominated."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pareto import Sense, to_maximization
from storage import Evaluation, front, get_campaign, history
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


N_WRITERS, N_READERS = 4, 8


def test_four_writers_and_eight_front_readers_on_one_campaign(
    store_url: str, sessions: sessionmaker[Session], new_campaign: Callable[..., int]
) -> None:
    """4 writer processes append (disjoint, interleaved seqs) while 8 reader threads,
    each on its own connection, read the front over and over: every write is stored
    exactly once, and every front read is a set of mutually non-dominated points that
    were really stored (a reader never sees a half-updated ``on_front``)."""
    senses: list[Sense] = ["maximize", "minimize", "maximize"]
    campaign_id = new_campaign(senses=senses)
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.append_worker", store_url, str(campaign_id),
             str(first_seq), str(N_BATCHES), str(BATCH_SIZE), str(100 + first_seq),
             str(N_WRITERS)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for first_seq in range(N_WRITERS)
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready", writer.communicate()[1]

    writing = threading.Event()
    writing.set()

    def read_fronts() -> list[list[tuple[int, tuple[float, ...]]]]:
        """Front reads, while the writers run and once after."""
        reads = []
        while True:
            still_writing = writing.is_set()
            with sessions() as session:
                rows = front(session, campaign_id)
            reads.append([(row.seq, tuple(row.objectives)) for row in rows])
            if not still_writing:
                return reads

    with ThreadPoolExecutor(N_READERS) as pool:
        readers = [pool.submit(read_fronts) for _ in range(N_READERS)]
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            stdout, stderr = writer.communicate(timeout=180)
            assert writer.returncode == 0, stderr
            assert stdout.strip() == "done"
        writing.clear()
        per_reader = [reader.result(timeout=60) for reader in readers]
    reads = [read for reader_reads in per_reader for read in reader_reads]

    total = N_WRITERS * N_BATCHES * BATCH_SIZE
    with sessions() as session:
        rows = session.scalars(
            select(Evaluation).where(Evaluation.campaign_id == campaign_id).order_by(Evaluation.seq)
        ).all()
        campaign = get_campaign(session, campaign_id)
    assert [row.seq for row in rows] == list(range(total))  # every write, exactly once
    stored = {row.seq: tuple(row.objectives) for row in rows}
    points = to_maximization([row.objectives for row in rows], senses)
    expected = brute_force_front_mask(points)
    assert np.array_equal([row.on_front for row in rows], expected)
    assert campaign is not None and campaign.n_evaluations == total

    assert len(reads) > 2 * N_READERS  # the readers overlapped the writers
    for read in reads:
        assert all(stored[seq] == objectives for seq, objectives in read)
        if read:
            values = to_maximization([objectives for _, objectives in read], senses)
            assert brute_force_front_mask(values).all(), "a front read holds a dominated point"
    last_reads = [reader_reads[-1] for reader_reads in per_reader]
    for read in last_reads:  # read after every writer finished: exactly the final front
        assert [seq for seq, _ in read] == [row.seq for row in rows if row.on_front]
