"""Run torch as a worker does: one intra-op thread (``jobs.worker._limit_threads``)."""

import torch

torch.set_num_threads(1)
