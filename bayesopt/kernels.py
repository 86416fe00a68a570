"""BoTorch's compiled qLogEHVI kernel: where it is cached, and building it at install time.

BoTorch 0.18 compiles a fused C++ kernel for its qLogEHVI and qLogNEHVI acquisition
functions the first time one is constructed in a process that finds no build
(``torch.utils.cpp_extension.load``, ``-O3 -march=native``): about 40 s on two cores.
torch caches the build under ``~/.cache/torch_extensions`` by the kernel's name only,
so two virtual environments on one machine (a checkout and a fresh clone of it) keep
rebuilding each other's copy. And paid inside the first ask of a fresh install, the
compile outlasted the client's 30 s HTTP timeout; paid inside a campaign, it inflates
the first acquisition time it reports.

:func:`use_environment_cache` keeps the cache inside the running virtual environment
(``<venv>/torch-extensions``) unless ``TORCH_EXTENSIONS_DIR`` is already set;
``bayesopt.acquisition`` calls it on import. ``python -m bayesopt.kernels`` builds
the kernel once, and ``make`` runs it right after installing. Where no C++ compiler is
found BoTorch warns and uses its pure-PyTorch path (about 3x slower), which gives the
same acquisition values.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def use_environment_cache() -> None:
    """Point torch's extension cache into this virtual environment, if in a writable one
    and no cache was chosen."""
    in_venv = sys.prefix != sys.base_prefix
    if in_venv and "TORCH_EXTENSIONS_DIR" not in os.environ and os.access(sys.prefix, os.W_OK):
        os.environ["TORCH_EXTENSIONS_DIR"] = str(Path(sys.prefix) / "torch-extensions")


def build() -> float:
    """Construct one qLogNEHVI, which builds the kernel unless it is cached; seconds taken."""
    use_environment_cache()
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.models import ModelListGP, SingleTaskGP

    x = torch.linspace(0, 1, 4, dtype=torch.float64).unsqueeze(-1)
    model = ModelListGP(SingleTaskGP(x, x), SingleTaskGP(x, 1 - x))
    started = time.perf_counter()
    qLogNoisyExpectedHypervolumeImprovement(model, ref_point=[-1.0, -1.0], X_baseline=x)
    return time.perf_counter() - started


if __name__ == "__main__":
    seconds = build()
    print(f"BoTorch's qLogEHVI kernel is ready in {os.environ.get('TORCH_EXTENSIONS_DIR')} "
          f"({seconds:.1f} s)")
