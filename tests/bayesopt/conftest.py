"""Make the shared test doubles of this directory importable (``memory_recorder``), and
run torch as a worker does: one intra-op thread (``jobs.worker._limit_threads``), which
on a small shared CPU is several times faster for models this size than the default."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)
