"""The Python client of the mofront REST API.

    from api.client import Client
    client = Client("http://127.0.0.1:8000")
    campaign = client.submit({"algorithm": "sobol", "problem": {"kind": "test-function",
                              "id": "zdt1"}, "budget": {"evaluations": 200}})
    campaign.wait()
    campaign.front()          # a pandas DataFrame, one row per front point

It depends on httpx, pandas and numpy only (no torch), so it installs anywhere.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

import httpx
import pandas as pd

FINISHED = ("succeeded", "failed", "cancelled")


class APIError(RuntimeError):
    """A 4xx/5xx answer; ``detail`` is the server's explanation."""

    def __init__(self, status_code: int, detail: Any):
        self.status_code, self.detail = status_code, detail
        super().__init__(f"HTTP {status_code}: {_explain(detail)}")


class Client:
    def __init__(self, url: str = "http://127.0.0.1:8000", token: str | None = None,
                 timeout: float = 30.0):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/") + "/api/v1", headers=headers,
                                  timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise APIError(response.status_code, detail)
        if response.status_code == 204:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    def submit(self, spec: dict[str, Any]) -> Campaign:
        return Campaign(self, self.request("POST", "/campaigns", json=spec))

    def campaign(self, campaign_id: int) -> Campaign:
        return Campaign(self, self.request("GET", f"/campaigns/{campaign_id}"))

    def campaigns(self, **filters: Any) -> list[Campaign]:
        page = self.request("GET", "/campaigns", params=_drop_none(filters))
        return [Campaign(self, item) for item in page["items"]]

    def registry(self) -> dict[str, Any]:
        return dict(self.request("GET", "/registry"))

    def evaluation(self, evaluation_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"/evaluations/{evaluation_id}"))

    def download_policy(self, evaluation_id: int) -> bytes:
        """The evaluation's artifact (a policy, for MORL campaigns), as stored; load it
        with ``morl.load_policy``. APIError 404 when the evaluation has none."""
        return bytes(self.request("GET", f"/evaluations/{evaluation_id}/artifact"))

    def compare(self, campaign_ids: Sequence[int],
                reference_point: Sequence[float] | None = None) -> pd.DataFrame:
        params = {"campaigns": ",".join(map(str, campaign_ids))}
        if reference_point is not None:
            params["reference_point"] = ",".join(map(repr, map(float, reference_point)))
        result = self.request("GET", "/compare", params=params)
        table = pd.DataFrame(result["campaigns"])
        table.attrs["reference_point"] = result["reference_point"]
        table.attrs["reference_point_source"] = result["reference_point_source"]
        return table

    def attainment(self, campaign_ids: Sequence[int],
                   percentiles: Sequence[float] | None = None) -> dict[float, pd.DataFrame]:
        """Empirical attainment surfaces of these runs (``GET /attainment``): for each
        percentile, a frame of the surface's corner points, one column per objective
        (raw units); ``attrs["runs_needed"]`` of the runs reach each point below it.
        Default percentiles: the best run, the median and every run."""
        params = {"campaigns": ",".join(map(str, campaign_ids))}
        if percentiles is not None:
            params["percentiles"] = ",".join(map(repr, map(float, percentiles)))
        result = self.request("GET", "/attainment", params=params)
        names = [o["name"] for o in result["objectives"]]
        surfaces = {}
        for surface in result["surfaces"]:
            frame = pd.DataFrame(surface["points"], columns=names)
            frame.attrs["runs_needed"] = surface["runs_needed"]
            surfaces[surface["percentile"]] = frame
        return surfaces

    def sweep(self, spec: dict[str, Any], seeds: Iterable[int], *, wait: bool = True,
              progress: bool = False, poll_seconds: float = 1.0,
              timeout: float | None = None) -> Sweep:
        """Submit ``spec`` once per seed (its ``seed`` replaced, its name suffixed
        ``-seed{n}``) and, with ``wait``, block until all have finished. The campaigns
        run side by side, as many at once as the server's executor has room for.

            sweep = client.sweep(spec, range(10))
            sweep.table()                    # one row per seed: status, HV, front size
            sweep.hypervolume_summary()      # (mean, sample std, n succeeded)
        """
        seeds = [int(seed) for seed in seeds]
        if not seeds:
            raise ValueError("a sweep needs at least one seed")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must differ; got {seeds}")
        base = spec.get("name") or f"{spec.get('algorithm')}-{(spec.get('problem') or {}).get('id')}"
        campaigns = [self.submit({**spec, "seed": seed, "name": f"{base}-seed{seed}"[:200]})
                     for seed in seeds]
        sweep = Sweep(self, seeds, campaigns)
        if wait:
            sweep.wait(progress=progress, poll_seconds=poll_seconds, timeout=timeout)
        return sweep

    def optimize(
        self,
        fn: Callable[..., Any],
        parameters: dict[str, tuple[float, float] | list[Any] | dict[str, Any]]
        | Sequence[dict[str, Any]],
        objectives: dict[str, str] | Sequence[dict[str, Any]],
        budget: int,
        *,
        algorithm: str = "qlognehvi",
        batch_size: int = 1,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        name: str | None = None,
        reference_point: Sequence[float] | None = None,
        constraints: Sequence[str] = (),
        parameter_constraints: Sequence[str] = (),
        catch: tuple[type[BaseException], ...] = (),
        max_failures: int | None = None,
    ) -> Campaign:
        """Optimise a local Python function through ask/tell: ``fn(**x)`` returns the
        objective values (a sequence in ``objectives`` order, or a mapping by name).
        The loop is :meth:`Campaign.run` (failures, ``catch``, resuming) on a new campaign.

            client.optimize(lambda temp, time: (yield_of(temp, time), cost(temp, time)),
                            parameters={"temp": (20, 90), "time": (1, 10)},
                            objectives={"yield": "maximize", "cost": "minimize"},
                            budget=30)

        A parameter is ``(low, high)``, a list of the values to choose from (``"batch":
        [16, 32, 64]``, ordered as Ax orders a choice: numbers and two values are, more
        than two strings are not), or a mapping with the external problem's other fields:
        ``{"lr": {"low": 1e-5, "high": 0.1, "log_scale": True}, "layers": {"low": 1,
        "high": 8, "value_type": "int"}}``. ``parameter_constraints`` are linear
        constraints on them, as Ax writes them: ``["temp + 10*time <= 120"]``.
        ``constraints`` are outcome constraints, as Ax writes them: ``fn`` returns each
        one's value beside the objectives (by name in a mapping, after them in a
        sequence), and a point is feasible where every one holds its bound:
        ``constraints=["memory <= 16"]``, ``fn`` returning ``{"yield": 71.5, "cost": 9.2,
        "memory": gigabytes}``. A bare name is a slack, feasible where ``>= 0``.
        """
        if isinstance(parameters, dict):
            parameters = [_parameter(name, form) for name, form in parameters.items()]
        if isinstance(objectives, dict):
            objectives = [{"name": k, "sense": sense} for k, sense in objectives.items()]
        spec: dict[str, Any] = {
            "algorithm": algorithm,
            "problem": {"kind": "external", "parameters": list(parameters),
                        "objectives": list(objectives)},
            "budget": {"evaluations": budget},
            "params": params or {},
            "seed": seed,
        }
        if name is not None:
            spec["name"] = name
        if reference_point is not None:
            spec["reference_point"] = list(reference_point)
        if constraints:
            spec["problem"]["constraints"] = list(constraints)
        if parameter_constraints:
            spec["problem"]["parameter_constraints"] = list(parameter_constraints)
        return self.submit(spec).run(fn, batch_size=batch_size, catch=catch,
                                     max_failures=max_failures)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Campaign:
    """A campaign on the server; ``data`` is its latest JSON (``refresh()`` updates it)."""

    def __init__(self, client: Client, data: dict[str, Any]):
        self._client = client
        self.data = data

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def objective_names(self) -> list[str]:
        return [o["name"] for o in self.data["objectives"]]

    @property
    def constraint_names(self) -> list[str]:
        """An external problem's outcome constraints, as declared (a built-in problem's
        are c0, c1, ...: see :meth:`evaluations`)."""
        return [c["name"] for c in self.data["problem"].get("constraints") or []
                if isinstance(c, dict)]

    @property
    def constraint_metrics(self) -> list[str]:
        """What is told for the outcome constraints: each one's value, or each value a
        scalarised one (``"a + 2*b <= 10"``) sums, once, in the order they first appear."""
        names = [name for c in self.data["problem"].get("constraints") or []
                 if isinstance(c, dict) for name in (c.get("terms") or [c["name"]])]
        return list(dict.fromkeys(names))

    def refresh(self) -> Campaign:
        self.data = self._client.request("GET", f"/campaigns/{self.id}")
        return self

    def wait(self, progress: bool = True, poll_seconds: float = 1.0,
             timeout: float | None = None) -> Campaign:
        """Block until the campaign finishes; show a progress bar (rich) if asked."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _ProgressBar(f"campaign {self.id}") if progress else None
        try:
            while self.refresh().status not in FINISHED:
                if bar is not None:
                    bar.update(self.data["progress"], self.status)
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"campaign {self.id} still {self.status} after {timeout}s")
                time.sleep(poll_seconds)
            if bar is not None:
                bar.update(self.data["progress"], self.status)
        finally:
            if bar is not None:
                bar.close()
        return self

    def front(self, objectives: Sequence[str] | None = None,
              contributions: bool = False, denoised: bool = False) -> pd.DataFrame:
        """The front's evaluations (on ``objectives`` only, if given); with
        ``contributions``, an ``hv_contribution`` column: the hypervolume lost without
        each point's objective vector, under the reference point in ``attrs``; where
        results were told with standard errors, ``sem.<name>`` columns. ``denoised``
        (ask/tell campaigns): the front of the model's predictions, not of the noisy
        measurements, with the predictions as ``predicted.<name>`` columns, and where
        noisy constraints were judged by predicted slacks, ``predicted_slack.<name>``."""
        params: dict[str, Any] = {"objectives": ",".join(objectives)} if objectives else {}
        if contributions:
            params["contributions"] = "true"
        if denoised:
            params["denoised"] = "true"
        result = self._client.request("GET", f"/campaigns/{self.id}/front", params=params)
        names = [o["name"] for o in result["objectives"]]
        frame = _points_frame(result["points"], names, id_column="evaluation_id")
        _add_named_columns(frame, "sem", [p.get("sem") for p in result["points"]], names)
        if denoised:
            for j, name in enumerate(names):
                frame[f"predicted.{name}"] = [p["predicted"][j] for p in result["points"]]
            slacks = [p.get("predicted_slacks") for p in result["points"]]
            _add_named_columns(frame, "predicted_slack", slacks,
                               self._slack_names(next((len(r) for r in slacks if r), 0)))
        if contributions:
            frame["hv_contribution"] = [p["hv_contribution"] for p in result["points"]]
            frame.attrs["reference_point"] = result["reference_point"]
        return frame

    def importance(self) -> pd.DataFrame:
        """How much each parameter matters to each objective and outcome constraint
        (``GET /importance``): one row per outcome and parameter, with ``first_order``
        (the share of the outcome's variance the parameter explains alone), ``total``
        (the share it takes part in, interactions included) and each one's Monte Carlo
        standard error, the Sobol indices of the GP's posterior mean over the box;
        ``fit_r2``, the outcome's GP's leave-one-out R^2 (:meth:`model_fit`): trust the
        indices of an outcome whose GP predicts it. Where the problem has parameter
        constraints, ``shapley`` and ``shapley_se`` too: each parameter's Shapley effect,
        its share of the variance inside the constraints, where the parameters depend on
        each other. ``attrs`` holds ``n_evaluations``, ``method`` and ``note``."""
        result = self._client.request("GET", f"/campaigns/{self.id}/importance")
        indices = ["first_order", "total", "first_order_se", "total_se"]
        if any(outcome.get("shapley") is not None for outcome in result["outcomes"]):
            indices += ["shapley", "shapley_se"]
        rows = [
            {"outcome": outcome["name"], "kind": outcome["kind"], "parameter": parameter,
             **{column: None if outcome.get(column) is None else outcome[column][i]
                for column in indices},
             "fit_r2": outcome["fit_r2"]}
            for outcome in result["outcomes"]
            for i, parameter in enumerate(result["parameters"])
        ]
        frame = pd.DataFrame(rows, columns=["outcome", "kind", "parameter", *indices, "fit_r2"])
        frame.attrs.update({key: result[key] for key in ("n_evaluations", "method", "note")})
        return frame

    def model_fit(self) -> pd.DataFrame:
        """How well the GPs the BO methods fit predict what was measured (``GET
        /model-fit``): leave-one-out cross-validation, one row per outcome and
        evaluation with ``observed``, ``predicted`` (from every other evaluation) and
        ``sd`` (of a new measurement there). ``attrs["statistics"]`` gives each outcome's
        ``r2``, ``rank_correlation`` and ``coverage`` (the share of measurements inside
        the predicted 95% interval); ``attrs`` also holds ``n_evaluations`` and
        ``method``."""
        result = self._client.request("GET", f"/campaigns/{self.id}/model-fit")
        rows = [{"outcome": outcome["name"], "kind": outcome["kind"], **point}
                for outcome in result["outcomes"] for point in outcome["points"]]
        frame = pd.DataFrame(rows, columns=["outcome", "kind", "evaluation_id", "seq",
                                            "observed", "predicted", "sd"])
        frame.attrs["statistics"] = {
            outcome["name"]: {key: outcome[key] for key in ("r2", "rank_correlation",
                                                            "coverage")}
            for outcome in result["outcomes"]}
        frame.attrs.update({key: result[key] for key in ("n_evaluations", "method")})
        return frame

    def model_slice(self, parameter: str, at: int | None = None,
                    points: int = 100) -> pd.DataFrame:
        """What the GPs predict along ``parameter`` with the others held at evaluation
        ``at``'s values (default: the earliest on the front), as Ax's slice plot: one
        row per value of the parameter (``points`` of a float one), with ``mean.<name>``
        and ``sd.<name>`` per outcome (the function's, noise not included).
        ``attrs["at_evaluation_id"]`` and ``attrs["at_params"]`` say through which point."""
        result = self._client.request(
            "GET", f"/campaigns/{self.id}/model-slice",
            params=_drop_none({"parameter": parameter, "at": at, "points": points}))
        frame = pd.DataFrame({parameter: result["values"]})
        for outcome in result["outcomes"]:
            frame[f"mean.{outcome['name']}"] = outcome["mean"]
            frame[f"sd.{outcome['name']}"] = outcome["sd"]
        frame.attrs.update({key: result[key] for key in ("at_evaluation_id", "at_params",
                                                         "method")})
        return frame

    def model_contour(self, x: str, y: str, at: int | None = None,
                      points: int = 30) -> pd.DataFrame:
        """What the GPs predict over parameters ``x`` and ``y`` with the others held at
        evaluation ``at``'s values, as Ax's contour plot: one row per grid pair, with
        ``mean.<name>`` and ``sd.<name>`` per outcome and ``inside`` (the parameter
        constraints hold there). ``attrs`` as :meth:`model_slice`'s."""
        result = self._client.request(
            "GET", f"/campaigns/{self.id}/model-contour",
            params=_drop_none({"x": x, "y": y, "at": at, "points": points}))
        pairs = [(u, v) for v in result["y_values"] for u in result["x_values"]]
        frame = pd.DataFrame(pairs, columns=[x, y])
        frame["inside"] = [flag for row in result["inside"] for flag in row]
        for outcome in result["outcomes"]:
            for key in ("mean", "sd"):
                frame[f"{key}.{outcome['name']}"] = [v for row in outcome[key] for v in row]
        frame.attrs.update({key: result[key] for key in ("at_evaluation_id", "at_params",
                                                         "method")})
        return frame

    def evaluations(self, on_front: bool | None = None, page_size: int = 1000) -> pd.DataFrame:
        """Every evaluation in seq order (``on_front=True``: the front's only), one row
        each: ``evaluation_id``, ``seq``, the objectives (raw, each in its own sense),
        ``param.*``, ``on_front``, ``feasible``, ``budget_used``, ``kind``, ``created_at``
        and, for a constrained problem, ``constraint.<name>`` per outcome constraint: the
        value told (a built-in problem's, or a bare name's, is its slack ``c0``…,
        feasible when >= 0); where results were told with standard errors,
        ``sem.<name>`` per objective and constraint (None where not told); on a test
        function with ``noise_std``, ``true.<name>`` per objective, its noise-free value
        (with ``constraint_noise_std``, per constraint too); where a constraint is
        scalarised (``"a + 2*b <= 10"``, its column ``constraint.a + 2*b`` the sum),
        ``metric.<name>`` per value told for the constraints."""
        items: list[dict[str, Any]] = []
        while True:
            page = self._client.request(
                "GET", f"/campaigns/{self.id}/evaluations",
                params=_drop_none({"limit": page_size, "offset": len(items),
                                   "on_front": on_front}),
            )
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                break
        frame = _points_frame(items, self.objective_names, id_column="id")
        if not items:
            return frame
        for column in ("on_front", "feasible", "budget_used", "kind", "created_at"):
            frame[column] = [item[column] for item in items]
        metas = [item.get("meta") or {} for item in items]
        _add_named_columns(frame, "sem", [meta.get("sem") for meta in metas],
                           self.objective_names)
        _add_named_columns(frame, "true", [meta.get("true_objectives") for meta in metas],
                           self.objective_names)
        names = self._slack_names(max(len(item["constraints"] or []) for item in items))
        for i, name in enumerate(names):
            frame[f"constraint.{name}"] = [_constraint_value(item, i) for item in items]
        _add_named_columns(frame, "sem", [meta.get("constraint_sem") for meta in metas],
                           names)
        _add_named_columns(frame, "true", [meta.get("true_constraints") for meta in metas],
                           names)
        metrics = [meta.get("metric_values") for meta in metas]
        if any(metrics):  # what was told for scalarised constraints, by name
            for name in self.constraint_metrics:
                frame[f"metric.{name}"] = [(m or {}).get(name) for m in metrics]
        return frame

    def _slack_names(self, n_constraints: int | None = None) -> list[str]:
        """The outcome constraints' names as declared, else c0, c1, ... (as many as
        ``n_constraints``, or as the problem declares)."""
        names = list(self.constraint_names)
        if n_constraints is not None and len(names) != n_constraints:
            names = [f"c{i}" for i in range(n_constraints)]
        return names

    def hypervolume(self, reference_point: Sequence[float] | None = None) -> float:
        params = {}
        if reference_point is not None:
            params["reference_point"] = ",".join(map(repr, map(float, reference_point)))
        result = self._client.request("GET", f"/campaigns/{self.id}/hypervolume", params=params)
        return float(result["hypervolume"])

    def history(self) -> pd.DataFrame:
        result = self._client.request("GET", f"/campaigns/{self.id}/history")
        frame = pd.DataFrame(result["points"])
        frame.attrs["reference_point"] = result["reference_point"]
        return frame

    def cancel(self) -> Campaign:
        self.data = self._client.request("POST", f"/campaigns/{self.id}/cancel")
        return self

    def delete(self) -> None:
        self._client.request("DELETE", f"/campaigns/{self.id}")

    def ask(self, n: int = 1, timeout: float | None = 600.0) -> list[dict[str, Any]]:
        """``n`` suggestions (``{"id", "params", "expires_at"}``) for an ask/tell campaign;
        fewer when the budget left is smaller. A model-based ask fits GPs on everything
        told, which can take minutes on a large campaign: it waits up to ``timeout``
        seconds (None: for ever), not the client's default."""
        answer = self._client.request("POST", f"/campaigns/{self.id}/ask", params={"n": n},
                                      timeout=timeout)
        return list(answer["suggestions"])

    def tell(self, results: Sequence[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
        """Store results: ``{"suggestion_id": id, "objectives": [...]}`` for a suggestion,
        or ``{"params": {...}, "objectives": [...]}`` for a point you chose; with
        ``"sem": [...]`` (or a mapping by name) where the objectives' standard errors are
        known, None for one that is not."""
        batch = [results] if isinstance(results, dict) else list(results)
        answer = self._client.request("POST", f"/campaigns/{self.id}/tell",
                                      json={"results": [_jsonable(r) for r in batch]})
        self.data["status"] = answer["status"]
        return dict(answer)

    def fail(self, suggestion_ids: int | Sequence[int], reason: str | None = None
             ) -> dict[str, Any]:
        """Report suggestions that could not be evaluated (a crash, a diverged run). They
        free their share of the budget and the BO methods learn to avoid where they lie;
        ``reason`` is kept with them (see :meth:`suggestions`)."""
        ids = [suggestion_ids] if isinstance(suggestion_ids, int) else list(suggestion_ids)
        answer = self._client.request("POST", f"/campaigns/{self.id}/fail", json={
            "failures": [{"suggestion_id": int(i), "reason": reason} for i in ids]})
        return dict(answer)

    def suggestions(self, status: str | None = None, page_size: int = 1000) -> pd.DataFrame:
        """Every suggestion of an ask/tell campaign in the order handed out (``status``:
        only ``pending``, ``told``, ``expired`` or ``failed`` ones), one row each:
        ``suggestion_id``, ``status``, ``param.*``, ``evaluation_id`` and ``told_at``
        (once told), ``reason`` and ``failed_at`` (once failed), ``created_at``,
        ``expires_at``."""
        fields = ("evaluation_id", "told_at", "reason", "failed_at", "created_at", "expires_at")
        rows = [{"suggestion_id": item["id"], "status": item["status"],
                 **{f"param.{k}": v for k, v in item["params"].items()},
                 **{k: item[k] for k in fields}}
                for item in self._suggestion_items(status, page_size)]
        return pd.DataFrame(rows, columns=None if rows else ["suggestion_id", "status", *fields])

    def _suggestion_items(self, status: str | None, page_size: int = 1000
                          ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self._client.request(
                "GET", f"/campaigns/{self.id}/suggestions",
                params=_drop_none({"status": status, "limit": page_size, "offset": len(items)}))
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    def run(self, fn: Callable[..., Any], *, batch_size: int = 1,
            catch: tuple[type[BaseException], ...] = (), max_failures: int | None = None,
            resume: bool = False, poll_seconds: float = 1.0) -> Campaign:
        """Drive this ask/tell campaign with a local function until its budget is told:
        ``fn(**params)`` returns the objective values (a sequence in objective order, or
        a mapping by name) and, where the problem declares outcome constraints, their
        slacks (by name in a mapping, after the objectives in a sequence). A noisy measurement whose standard error is known may be a
        ``(mean, sem)`` pair instead of a number, as Ax's ``raw_data`` takes it:
        ``{"yield": (71.5, 0.8), "cost": 9.2}``, a constraint's slack too; the model then
        uses that noise.

        As in Optuna's ``study.optimize``: an exception from ``fn`` marks its suggestion
        failed (with the exception as the reason) and is raised again, unless it is one
        of ``catch``, when the loop goes on; a result that is not finite (NaN, inf) marks
        its suggestion failed and the loop goes on. A failed suggestion frees its share
        of the budget and steers later suggestions away from it. After ``max_failures``
        failures (default: the campaign's budget) it stops with a RuntimeError, so a
        function that always fails does not loop for ever.

        ``resume=True`` first evaluates the suggestions still pending, those a driver
        that died left behind; leave it False while other drivers work on the same
        campaign, whose pending suggestions are in their hands. When the budget left is
        all pending with other drivers, it waits (``poll_seconds``) for their results.
        """
        limit = int(self.data["budget"]["amount"]) if max_failures is None else max_failures
        failures = 0
        batch = self._suggestion_items("pending") if resume else []
        while self.refresh().status == "running":
            for suggestion in batch or self._ask_or_wait(batch_size, poll_seconds):
                reason = self._evaluate_and_tell(fn, suggestion, catch)
                if reason is not None:
                    failures += 1
                    if failures >= limit:
                        raise RuntimeError(
                            f"campaign {self.id}: {failures} evaluations failed (max_failures "
                            f"{limit}); the last: {reason}")
            batch = []
        return self

    def _ask_or_wait(self, n: int, poll_seconds: float) -> list[dict[str, Any]]:
        """``ask(n)``; nothing if the campaign finished meanwhile, or after a pause if the
        budget left is all pending."""
        try:
            return self.ask(n)
        except APIError as error:
            if error.status_code != 409:
                raise
            if self.refresh().status == "running":
                time.sleep(poll_seconds)
            return []

    def _evaluate_and_tell(self, fn: Callable[..., Any], suggestion: dict[str, Any],
                           catch: tuple[type[BaseException], ...]) -> str | None:
        """Evaluate one suggestion and tell its result; the failure's reason, if it failed."""
        try:
            values, sem = _means_and_sems(fn(**suggestion["params"]))
        except BaseException as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            self.fail(suggestion["id"], reason)
            if isinstance(error, catch) and isinstance(error, Exception):
                return reason
            raise
        values, constraints, sem = self._split_constraints(values, sem)
        numbers = [*(values.values() if isinstance(values, dict) else values),
                   *(constraints.values() if isinstance(constraints, dict) else constraints or [])]
        if not all(math.isfinite(v) for v in numbers):
            reason = f"the objectives are not all finite: {values}"
            if constraints:
                reason = (f"the objectives and constraints are not all finite: {values}, "
                          f"constraints {constraints}")
            self.fail(suggestion["id"], reason)
            return reason
        self.tell([_drop_none({"suggestion_id": suggestion["id"], "objectives": values,
                               "constraints": constraints, "sem": sem})])
        return None

    def _split_constraints(self, values: Any, sem: Any) -> tuple[Any, Any, Any]:
        """A function's result as (objectives, constraint values, standard errors): a
        mapping by name, the constraints' by the names told (:attr:`constraint_metrics`);
        a sequence, the objectives first, then those. The standard errors stay as they
        came (by name, or in that order), which ``tell`` takes for both."""
        names = self.constraint_metrics
        if not names:
            return values, None, sem
        if isinstance(values, dict):
            constraints = {name: values[name] for name in names if name in values}
            objectives = {k: v for k, v in values.items() if k not in constraints}
            return objectives, constraints or None, sem
        m = len(self.objective_names)
        return list(values[:m]), list(values[m:]) or None, sem

    def best(self, preference: Sequence[float], scalarisation: str = "linear"
             ) -> dict[str, Any]:
        """The front evaluation that maximises ``preference · J~`` (J~: the objectives as
        maximised, min-max normalised over the front), or with ``scalarisation=
        "chebyshev"`` the one nearest the ideal in the weighted max-norm, which reaches
        the balanced points of a front bulging to the nadir that a weighted sum never
        picks; see ``GET .../best``. The answer
        holds ``evaluation``, ``utility``, ``normalization`` and ``artifact_url``; for a
        PD-MORL campaign also ``act_preference`` and ``act_evaluation``: the network at
        ``artifact_url`` is to act with ``act_preference``, and did as
        ``act_evaluation`` shows at the nearest preference it was evaluated at."""
        params = {"preference": ",".join(map(repr, map(float, preference))),
                  "scalarisation": scalarisation}
        return dict(self._client.request("GET", f"/campaigns/{self.id}/best", params=params))

    def sample(self, preference: Sequence[float] | None = None, n: int = 16,
               seed: int = 0) -> pd.DataFrame:
        """``n`` new objects drawn from a GFlowNet campaign's latest stored sampler (mogfn:
        for ``preference``, one weight per objective; mogfn-al: no preference), one row
        each: ``object`` (a sequence string, grid coordinates…), the objective values by
        name under the task, ``preference``. ``attrs`` hold the preference (scaled to sum
        1), seed, task, evaluation_id of the sampler and how far it was trained. Nothing
        is stored. APIError 409 for a campaign with no sampler (yet)."""
        params: dict[str, Any] = {"n": n, "seed": seed}
        if preference is not None:
            params["preference"] = ",".join(map(repr, map(float, preference)))
        result = self._client.request("GET", f"/campaigns/{self.id}/sample", params=params)
        names = [o["name"] for o in result["objectives"]]
        rows = [{"object": c["object"], **dict(zip(names, c["objectives"], strict=True)),
                 "preference": c["preference"]} for c in result["candidates"]]
        frame = pd.DataFrame(rows, columns=["object", *names, "preference"])
        for key in ("preference", "seed", "task", "evaluation_id", "trained"):
            frame.attrs[key] = result[key]
        return frame

    def known_front(self) -> pd.DataFrame:
        """The problem's known Pareto front at the campaign's eval_gamma, one row per
        point; ``attrs`` hold gamma, hypervolume, reference_point and source.
        APIError 404 for a problem without one."""
        result = self._client.request("GET", f"/campaigns/{self.id}/known-front")
        names = [o["name"] for o in result["objectives"]]
        frame = pd.DataFrame(result["points"], columns=names)
        for key in ("gamma", "hypervolume", "reference_point", "reference_point_source",
                    "source"):
            frame.attrs[key] = result[key]
        return frame

    def metrics(self) -> dict[str, Any]:
        """Hypervolume, cardinality, sparsity, expected utility and, with a known front,
        IGD, IGD+, maximum utility loss, HV ratio and coverage of the campaign's front
        (``GET .../metrics``)."""
        return dict(self._client.request("GET", f"/campaigns/{self.id}/metrics"))

    def download_policy(self, evaluation_id: int) -> bytes:
        return self._client.download_policy(evaluation_id)

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.data.get('algorithm')} {self.status}>"


def _points_frame(points: list[dict[str, Any]], names: list[str], id_column: str) -> pd.DataFrame:
    rows = []
    for point in points:
        row: dict[str, Any] = {"evaluation_id": point[id_column], "seq": point["seq"]}
        row.update(zip(names, point["objectives"]))
        row.update({f"param.{key}": value for key, value in point["params"].items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["evaluation_id", "seq", *names])


def _add_named_columns(frame: pd.DataFrame, prefix: str,
                       rows: list[list[float | None] | None], names: list[str]) -> None:
    """``<prefix>.<name>`` columns, one per name in ``names``, where any row has values
    (``rows``: one list per row, in ``names``' order, or None): standard errors
    (``sem``), noise-free values (``true``)."""
    if not any(rows):
        return
    for j, name in enumerate(names):
        frame[f"{prefix}.{name}"] = [row[j] if row else None for row in rows]


def _constraint_value(item: dict[str, Any], index: int) -> float | None:
    """An outcome constraint's value as told (kept in meta where the spec bounds it),
    else its stored slack."""
    told = (item.get("meta") or {}).get("constraint_values")
    if told:
        return float(told[index])
    return item["constraints"][index] if item["constraints"] else None


class Sweep:
    """One spec run once per seed (:meth:`Client.sweep`)."""

    def __init__(self, client: Client, seeds: list[int], campaigns: list[Campaign]):
        self._client = client
        self.seeds = seeds
        self.campaigns = campaigns

    def wait(self, progress: bool = True, poll_seconds: float = 1.0,
             timeout: float | None = None) -> Sweep:
        """Block until every campaign has finished; a progress bar (rich) if asked."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _ProgressBar(f"sweep of {len(self.campaigns)}") if progress else None
        try:
            while True:
                running = [c for c in self.campaigns if c.status not in FINISHED]
                for campaign in running:
                    campaign.refresh()
                done = sum(c.status in FINISHED for c in self.campaigns)
                if bar is not None:
                    fraction = sum(c.data["progress"] for c in self.campaigns) / len(self.campaigns)
                    bar.update(fraction, f"{done}/{len(self.campaigns)} finished")
                if done == len(self.campaigns):
                    return self
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"sweep: {len(self.campaigns) - done} campaigns still "
                                       f"running after {timeout}s")
                time.sleep(poll_seconds)
        finally:
            if bar is not None:
                bar.close()

    def table(self) -> pd.DataFrame:
        """One row per seed: ``seed``, ``campaign_id``, ``status``, ``n_evaluations``,
        ``front_size``, ``hypervolume``, every HV under one reference point common to the
        sweep (``GET /compare``; a default point is otherwise fixed per campaign, from
        its own evaluations, and would not compare). ``attrs``: ``reference_point``,
        ``reference_point_source``."""
        compared = self._client.compare([c.id for c in self.campaigns])
        compared.insert(0, "seed", self.seeds)
        return compared

    def hypervolume_summary(self, table: pd.DataFrame | None = None) -> tuple[float, float, int]:
        """(mean, sample standard deviation, n) of the succeeded campaigns' hypervolume
        under the sweep's common reference point; std is 0 for one, both NaN for none."""
        table = self.table() if table is None else table
        values = [float(v) for v in table.loc[table["status"] == "succeeded", "hypervolume"]]
        n = len(values)
        if n == 0:
            return math.nan, math.nan, 0
        mean = sum(values) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        return mean, std, n


def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` → 0…9; ``"0,3,7"``; ``"0-4,10"``: ranges include both ends."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if match is None:
            raise ValueError(f"{part!r} is not a seed or a range like 0-9")
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise ValueError(f"the range {part!r} is empty")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{text!r} names a seed twice")
    if len(seeds) > 10_000:
        raise ValueError(f"{text!r} names {len(seeds)} seeds; at most 10000")
    return seeds


class _ProgressBar:
    def __init__(self, label: str):
        from rich.progress import Progress

        self._progress = Progress()
        self._progress.start()
        self._task = self._progress.add_task(label, total=1.0)

    def update(self, fraction: float, status: str) -> None:
        self._progress.update(self._task, completed=fraction,
                              description=f"{status}")

    def close(self) -> None:
        self._progress.stop()


def _parameter(name: str, form: tuple[float, float] | list[Any] | dict[str, Any]
               ) -> dict[str, Any]:
    """One external-problem parameter from ``optimize``'s short form: a mapping of its
    fields, a list of choices, or a ``(low, high)`` tuple."""
    if isinstance(form, dict):
        return {"name": name, **form}
    if isinstance(form, list):
        return {"name": name, "value_type": "choice", "values": form}
    if not isinstance(form, tuple) or len(form) != 2:
        raise ValueError(f"parameters[{name!r}]: expected (low, high), a list of choices or "
                         f"a mapping of the parameter's fields, got {form!r}")
    low, high = form
    return {"name": name, "low": low, "high": high}


def _values(values: Any) -> Any:
    """Numbers (numpy's included) as floats, in a list or a mapping; None stays None."""
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    if isinstance(values, dict):
        return {key: number(value) for key, value in values.items()}
    if isinstance(values, (int, float)):
        return [float(values)]
    return [number(value) for value in values]


def _means_and_sems(values: Any) -> tuple[Any, Any]:
    """A function's result split into the objective values and, where some are given as
    ``(mean, sem)`` pairs, their standard errors (None for a plain number or a NaN
    standard error; no standard errors at all: None)."""
    def split(value: Any) -> tuple[float, float | None]:
        if isinstance(value, (tuple, list)) and len(value) == 2:
            sem = None if value[1] is None or math.isnan(value[1]) else float(value[1])
            return float(value[0]), sem  # a NaN standard error is unknown, as in Ax
        return float(value), None

    if isinstance(values, dict):
        pairs = {key: split(value) for key, value in values.items()}
        sems = {key: sem for key, (_, sem) in pairs.items() if sem is not None}
        return {key: mean for key, (mean, _) in pairs.items()}, sems or None
    if isinstance(values, (int, float)):
        return [float(values)], None
    pairs_list = [split(value) for value in values]
    sem_list = [sem for _, sem in pairs_list]
    return [mean for mean, _ in pairs_list], (
        None if all(sem is None for sem in sem_list) else sem_list)


def _jsonable(result: dict[str, Any]) -> dict[str, Any]:
    converted = dict(result)
    for key in ("objectives", "constraints", "sem"):
        if converted.get(key) is not None:
            converted[key] = _values(converted[key])
    if converted.get("params") is not None:  # numpy scalars to numbers; a choice may be a str
        converted["params"] = {k: v if isinstance(v, str) else float(v)
                               for k, v in converted["params"].items()}
    return converted


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _explain(detail: Any) -> str:
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
            if isinstance(item, dict) else str(item)
            for item in detail
        )
    return str(detail)
