"""A separate process appending to one campaign, for the concurrency test.

Usage, from the repository root (run as a module, so that ``storage`` is the package
and not this test folder): ``python -m tests.storage.append_worker URL CAMPAIGN_ID FIRST_SEQ N_BATCHES BATCH_SIZE SEED
[STRIDE]``. Prints ``ready``, waits for a line on stdin (so that all workers start
together), then appends its batches (seqs ``FIRST_SEQ, FIRST_SEQ + STRIDE, …``, STRIDE
2 by default: workers with first seqs 0 … STRIDE - 1 write disjoint, interleaved seqs)
and prints ``done``.
"""

from __future__ import annotations

import sys

import numpy as np

from storage import NewEvaluation, append_evaluations, make_engine, make_sessionmaker


def main() -> None:
    url, campaign_id, first_seq, n_batches, batch_size, seed = sys.argv[1:7]
    stride = int(sys.argv[7]) if len(sys.argv) > 7 else 2
    sessions = make_sessionmaker(make_engine(url))
    rng = np.random.default_rng(int(seed))
    print("ready", flush=True)
    sys.stdin.readline()
    seq = int(first_seq)
    for _ in range(int(n_batches)):
        items = []
        for point in rng.integers(0, 30, size=(int(batch_size), 3)).tolist():
            items.append(NewEvaluation(seq=seq, objectives=[float(v) for v in point]))
            seq += stride
        with sessions() as session:
            append_evaluations(session, int(campaign_id), items)
    print("done", flush=True)


if __name__ == "__main__":
    main()
