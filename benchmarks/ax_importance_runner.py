"""Ax's parameter sensitivity on given points, for ``bench_importance.py``; run by the
Python of ``benchmarks/.ax-venv`` (``ax-platform``), not mofront's.

Reads ``{"low", "high", "x": [[...]], "y": [...]}`` on stdin (or, in place of ``low`` and
``high``, ``"parameters": [{"name", "low", "high"}]`` and ``"parameter_constraints"``, as
Ax writes them): every point attached to an Ax experiment as a completed trial of one
maximised metric ``f``. Fits Ax's default
model (``Generators.BOTORCH_MODULAR``: the GP its generation strategy uses after the
initial design) to them and writes ``{"first", "total", "seconds"}``: the unsigned
Sobol indices of the GP mean that ``ax.utils.sensitivity.sobol_measures.
ax_parameter_sens`` computes (``SobolSensitivityGPMean``), what Ax's sensitivity
analysis plots (signed there), one per parameter; and ``fit_r2``, the R^2 of Ax's
leave-one-out cross-validation of that model (``cross_validate(adapter)``: efficient
LOO with the hyperparameters kept, as mofront's ``GET /model-fit``).
"""

from __future__ import annotations

import json
import sys
import time

import torch
from ax.adapter.cross_validation import cross_validate
from ax.adapter.registry import Generators
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.utils.sensitivity.sobol_measures import ax_parameter_sens


def main() -> None:
    torch.set_num_threads(1)
    task = json.load(sys.stdin)
    d = len(task["x"][0])
    declared = task.get("parameters") or [
        {"name": f"x{i}", "low": task["low"], "high": task["high"]} for i in range(d)]
    names = [p["name"] for p in declared]
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[RangeParameterConfig(name=p["name"], parameter_type="float",
                                         bounds=(p["low"], p["high"])) for p in declared],
        parameter_constraints=task.get("parameter_constraints") or [])
    client.configure_optimization(objective="f")
    for row, value in zip(task["x"], task["y"], strict=True):
        index = client.attach_trial(parameters={n: float(v) for n, v in zip(names, row, strict=True)})
        client.complete_trial(trial_index=index, raw_data={"f": value})
    started = time.perf_counter()
    torch.manual_seed(0)
    experiment = client._experiment
    adapter = Generators.BOTORCH_MODULAR(experiment=experiment, data=experiment.lookup_data())
    indices = {order: ax_parameter_sens(adapter, order=order, signed=False)["f"]
               for order in ("first", "total")}
    seconds = time.perf_counter() - started
    folds = cross_validate(adapter)
    observed = [float(fold.observed.data.means[0]) for fold in folds]
    predicted = [float(fold.predicted.means[0]) for fold in folds]
    mean = sum(observed) / len(observed)
    fit_r2 = 1 - (sum((o - p) ** 2 for o, p in zip(observed, predicted, strict=True))
                  / sum((o - mean) ** 2 for o in observed))
    json.dump({order: [float(values[name]) for name in names]
               for order, values in indices.items()} | {
                   "seconds": seconds, "fit_r2": fit_r2}, sys.stdout)


if __name__ == "__main__":
    main()
