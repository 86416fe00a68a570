"""The ``mofront`` command: serve, submit, sweep, status, front, evaluations, suggestions,
metrics, rollout, token, db upgrade.

Errors a user can fix (a bad spec, an unknown id, a server that is not up) are printed
as one line on stderr with exit code 2; nothing prints a traceback for them.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_URL = os.environ.get("MOFRONT_URL", "http://127.0.0.1:8000")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"mofront: {exc}", file=sys.stderr)
        return 2


class UserError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mofront", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the API, the viewer and local workers")
    serve.add_argument("--db", default=os.environ.get("MOFRONT_DB", "mofront.db"),
                       help="database URL or SQLite file (default: ./mofront.db, or $MOFRONT_DB)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; any other needs API tokens "
                            "or --insecure)")
    serve.add_argument("--insecure", action="store_true",
                       help="allow a non-loopback --host with no API tokens (trusted networks only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-format", choices=["json", "text"],
                       default=os.environ.get("MOFRONT_LOG_FORMAT", "json"),
                       help="server log lines on stderr: JSON objects (default) or plain text")
    serve.add_argument("--executor", choices=["local", "ray"],
                       default=os.environ.get("MOFRONT_EXECUTOR", "local"),
                       help="local: worker subprocesses here; ray: actors on a Ray cluster "
                            "(default: local, or $MOFRONT_EXECUTOR)")
    serve.add_argument("--ray-address", default=os.environ.get("MOFRONT_RAY_ADDRESS"),
                       metavar="ADDR",
                       help="with --executor ray: the cluster's head, HOST:PORT (default: "
                            "$MOFRONT_RAY_ADDRESS, $RAY_ADDRESS, else the cluster `ray start` "
                            "runs on this machine)")
    serve.add_argument("--workers", type=int, default=None,
                       help="campaigns run at once (local default: one per GPU, else 1; "
                            "ray default: as many as the cluster has free CPUs/GPUs for)")
    serve.add_argument("--no-spare-worker", action="store_true",
                       help="local: start each worker when its campaign starts instead of "
                            "keeping one ready with torch imported (saves an idle process, "
                            "costs a few seconds per campaign; or MOFRONT_SPARE_WORKER=0)")
    serve.set_defaults(handler=_serve)

    submit = commands.add_parser("submit", help="submit a campaign spec (JSON file, or - for stdin)")
    submit.add_argument("spec")
    submit.add_argument("--wait", action="store_true", help="wait for it to finish")
    _add_url(submit)
    submit.set_defaults(handler=_submit)

    sweep = commands.add_parser(
        "sweep", help="submit a spec once per seed, wait, report the hypervolume mean ± std")
    sweep.add_argument("spec", help="campaign spec (JSON file, or - for stdin)")
    sweep.add_argument("--seeds", required=True,
                       help="seeds: a range and/or a list, e.g. 0-9 or 0,3,7 or 0-4,10")
    _add_url(sweep)
    sweep.set_defaults(handler=_sweep)

    status = commands.add_parser("status", help="list campaigns, or show one")
    status.add_argument("id", nargs="?", type=int)
    _add_url(status)
    status.set_defaults(handler=_status)

    front = commands.add_parser("front", help="print a campaign's Pareto front as CSV")
    front.add_argument("id", type=int)
    front.add_argument("--objectives", help="comma-separated subset of objective names")
    front.add_argument("--contributions", action="store_true",
                       help="add each point's exclusive hypervolume contribution")
    front.add_argument("--denoised", action="store_true",
                       help="ask/tell campaigns: the front of the model's predictions, "
                            "not of the noisy measurements")
    _add_url(front)
    front.set_defaults(handler=_front)

    evaluations = commands.add_parser(
        "evaluations", help="print every evaluation of a campaign as CSV (seq order)")
    evaluations.add_argument("id", type=int)
    evaluations.add_argument("--on-front", action="store_true",
                             help="only the evaluations on the front")
    _add_url(evaluations)
    evaluations.set_defaults(handler=_evaluations)

    suggestions = commands.add_parser(
        "suggestions", help="print an ask/tell campaign's suggestions as CSV: pending, told, "
                            "expired or failed, with the reason a failed one was given")
    suggestions.add_argument("id", type=int)
    suggestions.add_argument("--status", choices=["pending", "told", "expired", "failed"],
                             help="only the suggestions in this status")
    _add_url(suggestions)
    suggestions.set_defaults(handler=_suggestions)

    metrics = commands.add_parser(
        "metrics", help="print the quality measures of a campaign's front (GET /metrics)")
    metrics.add_argument("id", type=int)
    metrics.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    _add_url(metrics)
    metrics.set_defaults(handler=_metrics)

    best = commands.add_parser(
        "best", help="print the front evaluation a preference picks (GET /best)")
    best.add_argument("id", type=int)
    best.add_argument("--preference", required=True, metavar="W1,W2,...",
                      help="one non-negative weight per objective, in the campaign's order "
                           "(scaled to sum 1)")
    best.add_argument("--scalarisation", choices=["linear", "chebyshev"], default="linear",
                      help="linear: the largest weighted sum of the normalised objectives "
                           "(only ever the front's convex hull); chebyshev: nearest the ideal "
                           "in the weighted max-norm (any front point). Default: linear")
    best.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    _add_url(best)
    best.set_defaults(handler=_best)

    importance = commands.add_parser(
        "importance", help="print how much each parameter matters to each objective "
                           "(Sobol indices of the GP; GET /importance)")
    importance.add_argument("id", type=int)
    importance.add_argument("--csv", action="store_true",
                            help="one CSV row per outcome and parameter, with standard errors")
    _add_url(importance)
    importance.set_defaults(handler=_importance)

    model_fit = commands.add_parser(
        "model-fit", help="print how well the GP predicts each outcome from the other "
                          "evaluations (leave-one-out; GET /model-fit)")
    model_fit.add_argument("id", type=int)
    model_fit.add_argument("--csv", action="store_true",
                           help="one CSV row per outcome and evaluation: observed, predicted, sd")
    _add_url(model_fit)
    model_fit.set_defaults(handler=_model_fit)

    model_slice = commands.add_parser(
        "model-slice", help="print the GP along one parameter through one evaluation as CSV "
                            "(GET /model-slice)")
    model_slice.add_argument("id", type=int)
    model_slice.add_argument("--parameter", required=True, help="the parameter varied")
    model_slice.add_argument("--at", type=int, help="the evaluation the other parameters are "
                                                    "held at (default: the earliest on the front)")
    model_slice.add_argument("--points", type=int, default=100,
                             help="grid size of a float parameter (default 100)")
    _add_url(model_slice)
    model_slice.set_defaults(handler=_model_slice)

    rollout = commands.add_parser(
        "rollout", help="run a stored policy in its environment; print its mean returns")
    rollout.add_argument("evaluation_id", type=int, metavar="EVALUATION_ID")
    rollout.add_argument("--episodes", type=int, default=5, help="episodes to run (default 5)")
    rollout.add_argument("--seed", type=int, default=0, help="episode k is reset with seed + k")
    rollout.add_argument("--render", choices=["rgb_array"],
                         help="record the episodes' frames into a GIF")
    rollout.add_argument("--gif", type=Path,
                         help="where the GIF goes (default: evaluation-ID.gif)")
    rollout.add_argument("--preference", metavar="W1,W2,...",
                         help="a preference-conditioned policy (PD-MORL) acts with these "
                         "weights (scaled to sum 1) instead of the evaluation's own")
    _add_url(rollout)
    rollout.set_defaults(handler=_rollout)

    token = commands.add_parser("token", help="API tokens (stored hashed in the database)")
    token_commands = token.add_subparsers(title="token commands")
    token_create = token_commands.add_parser(
        "create", help="create a token and print its secret (shown this once)")
    token_create.add_argument("--scope", required=True, choices=["read", "submit", "admin"],
                              help="read: queries; submit: also submit, cancel, ask/tell; "
                                   "admin: also delete")
    token_create.add_argument("--name", default="", help="what it is for (shown by token list)")
    token_list = token_commands.add_parser("list", help="list tokens (never their secrets)")
    token_revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    token_revoke.add_argument("id", type=int)
    for command, handler in ((token_create, _token_create), (token_list, _token_list),
                             (token_revoke, _token_revoke)):
        command.add_argument("--db", default=os.environ.get("MOFRONT_DB", "mofront.db"))
        command.set_defaults(handler=handler)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(title="db commands")
    db_upgrade = db_commands.add_parser("upgrade", help="migrate the store to the current schema")
    db_upgrade.add_argument("--db", default=os.environ.get("MOFRONT_DB", "mofront.db"))
    db_upgrade.set_defaults(handler=_db_upgrade)
    return parser


def _add_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"server (default {DEFAULT_URL})")
    parser.add_argument("--token", default=os.environ.get("MOFRONT_TOKEN"))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import Settings
    from jobs import logs

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    settings = Settings(database_url=args.db, host=args.host, port=args.port,
                        executor=args.executor, workers=args.workers,
                        ray_address=args.ray_address)
    if args.no_spare_worker:
        settings.spare_worker = False
    if not _is_loopback(args.host) and not args.insecure:
        _refuse_open_bind(args)
        settings.require_token = True  # revoking every token must not open the server
    if args.executor == "ray":
        _connect_ray(args)
    elif args.ray_address:
        raise UserError("--ray-address needs --executor ray")
    print(f"mofront: serving http://{args.host}:{args.port}/ (store: {args.db})", flush=True)
    logs.configure(args.log_format)  # one record per request comes from api.observability
    os.environ["MOFRONT_LOG_FORMAT"] = args.log_format  # the workers log the same way
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None,
                access_log=False)
    return 0


def _connect_ray(args: argparse.Namespace) -> None:
    """Connect to the Ray cluster before serving, so that a cluster that is not there,
    or a SQLite store it cannot share, is one line on stderr and not a traceback."""
    try:
        from jobs.executors.ray import RayExecutorError, connect, worker_store_url
    except ImportError as exc:
        raise UserError(f"--executor ray needs Ray installed ({exc}): pip install "
                        "'ray[default]'") from None
    try:
        connect(args.ray_address, worker_store_url(args.db))
    except RayExecutorError as exc:
        raise UserError(str(exc)) from None


def _read_spec(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise UserError(f"{path} is not a campaign spec (a JSON object)")
    return spec


def _submit(args: argparse.Namespace) -> int:
    spec = _read_spec(args.spec)
    with _client(args) as client:
        campaign = _call(lambda: client.submit(spec))
        print(f"campaign {campaign.id} {campaign.status}")
        if args.wait:
            _call(lambda: campaign.wait(progress=sys.stderr.isatty()))
            print(f"campaign {campaign.id} {campaign.status}: {campaign.data['n_evaluations']} "
                  f"evaluations, front {campaign.data['front_size']}, "
                  f"hypervolume {campaign.data['hypervolume']}")
            return 0 if campaign.status == "succeeded" else 1
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from api.client import parse_seeds

    spec = _read_spec(args.spec)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        raise UserError(f"--seeds: {exc}") from None
    with _client(args) as client:
        sweep = _call(lambda: client.sweep(spec, seeds, wait=False))
        print(f"sweep: campaigns {', '.join(str(c.id) for c in sweep.campaigns)} for seeds "
              f"{', '.join(map(str, seeds))}", file=sys.stderr)
        _call(lambda: sweep.wait(progress=sys.stderr.isatty()))
        table = _call(sweep.table)
    _print_table(["seed", "campaign", "status", "evaluations", "front", "hypervolume"], [
        [row.seed, row.campaign_id, row.status, row.n_evaluations, row.front_size,
         f"{row.hypervolume:.6g}"] for row in table.itertuples()
    ])
    mean, std, n = sweep.hypervolume_summary(table)
    point = ", ".join(f"{v:g}" for v in table.attrs["reference_point"])
    failed = len(table) - n
    print(f"hypervolume over {n} succeeded seed{'s' if n != 1 else ''}: "
          f"{mean:.6g} ± {std:.3g} (mean ± sample std; reference point ({point}), "
          f"{table.attrs['reference_point_source']}, common to all)"
          + (f"; {failed} did not succeed" if failed else ""))
    return 0 if failed == 0 else 1


def _status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.id is not None:
            print(json.dumps(_call(lambda: client.campaign(args.id)).data, indent=2))
            return 0
        campaigns = _call(lambda: client.campaigns(limit=100))
    _print_table(["id", "name", "algorithm", "problem", "status", "progress", "front", "hv"], [
        [c.id, c.data["name"] or "", c.data["algorithm"], c.data["problem"]["id"], c.status,
         f"{100 * c.data['progress']:.0f}%", c.data["front_size"],
         "" if c.data["hypervolume"] is None else f"{c.data['hypervolume']:.6g}"]
        for c in campaigns
    ])
    return 0


def _front(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        objectives = args.objectives.split(",") if args.objectives else None
        frame = _call(lambda: campaign.front(objectives, contributions=args.contributions,
                                             denoised=args.denoised))
    sys.stdout.write(frame.to_csv(index=False))
    return 0


def _evaluations(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        frame = _call(lambda: campaign.evaluations(on_front=True if args.on_front else None))
    sys.stdout.write(frame.to_csv(index=False))
    return 0


def _suggestions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        frame = _call(lambda: campaign.suggestions(status=args.status))
    sys.stdout.write(frame.to_csv(index=False))
    return 0


def _metrics(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        measured = _call(campaign.metrics)
    if args.json:
        print(json.dumps(measured, indent=2))
        return 0
    _print_table(["measure", "value", "how"], _metric_rows(measured))
    return 0


def _best(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        weights = _preference(args.preference, len(campaign.objective_names))
        answer = _call(lambda: campaign.best(weights, scalarisation=args.scalarisation))
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    chosen = answer["evaluation"]
    preference = ", ".join(f"{w:g}" for w in answer["preference"])
    print(f"preference ({preference}), {answer['scalarisation']}: evaluation {chosen['id']} "
          f"(seq {chosen['seq']}) of the {answer['front_size']} on the front, utility "
          f"{answer['utility']:.6g}")
    _print_table(["objective", "value"], [
        [f"{o['name']} ({o['sense']})", f"{v:.6g}"]
        for o, v in zip(answer["objectives"], chosen["objectives"], strict=True)])
    if chosen["params"]:
        print("params: " + ", ".join(f"{k}={v}" for k, v in chosen["params"].items()))
    served = answer.get("act_evaluation")
    if served:
        at = ",".join(f"{w:g}" for w in answer["act_preference"])
        print(f"to serve it: the network of evaluation {served['id']}, acting with ({at}): "
              f"mofront rollout {served['id']} --preference {at}")
    return 0


def _importance(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        frame = _call(campaign.importance)
    if args.csv:
        sys.stdout.write(frame.to_csv(index=False))
        return 0
    constrained = "shapley" in frame.columns
    print(f"from {frame.attrs['n_evaluations']} evaluations; total (first order) share of "
          "each outcome's variance" + ("; Shapley effect inside the parameter constraints"
                                       if constrained else ""))
    if frame.attrs["note"]:
        print(frame.attrs["note"])
    records = frame.to_dict("records")
    outcomes = list(dict.fromkeys(r["outcome"] for r in records))
    cells = {(r["parameter"], r["outcome"]): _shares(r["total"], r["first_order"])
             + (f"; {_share(r['shapley'])}" if constrained else "") for r in records}
    table = [[parameter, *(cells[parameter, outcome] for outcome in outcomes)]
             for parameter in dict.fromkeys(r["parameter"] for r in records)]
    fit = {r["outcome"]: r["fit_r2"] for r in records}
    table.append(["(model R²)", *(_r2(fit[outcome]) for outcome in outcomes)])
    _print_table(["parameter", *outcomes], table)
    return 0


def _model_fit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        frame = _call(campaign.model_fit)
    if args.csv:
        sys.stdout.write(frame.to_csv(index=False))
        return 0
    print(f"leave-one-out over {frame.attrs['n_evaluations']} evaluations: each predicted "
          "from all the others")
    kinds = dict(zip(frame["outcome"], frame["kind"], strict=True))
    _print_table(["outcome", "kind", "R²", "rank correlation", "in the 95% interval"],
                 [[outcome, kinds[outcome], _r2(stats["r2"]), _r2(stats["rank_correlation"]),
                   f"{stats['coverage']:.0%}"]
                  for outcome, stats in frame.attrs["statistics"].items()])
    return 0


def _model_slice(args: argparse.Namespace) -> int:
    with _client(args) as client:
        campaign = _call(lambda: client.campaign(args.id))
        frame = _call(lambda: campaign.model_slice(args.parameter, at=args.at,
                                                   points=args.points))
    held = ", ".join(f"{name}={value}" for name, value in frame.attrs["at_params"].items()
                     if name != args.parameter)
    print(f"# through evaluation {frame.attrs['at_evaluation_id']}" +
          (f", {held}" if held else ""))
    sys.stdout.write(frame.to_csv(index=False))
    return 0


def _r2(value: float | None) -> str:
    """A fit statistic to three decimals; "–" where it is undefined."""
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _shares(total: float | None, first_order: float | None) -> str:
    """``total (first order)``; "flat" where the outcome's model does not vary."""
    if total is None or math.isnan(total) or first_order is None:  # NaN: None in a frame
        return "flat"
    return f"{total:.3f} ({first_order:.3f})"


def _share(value: float | None) -> str:
    """One share to three decimals; "flat" where the outcome's model does not vary."""
    return "flat" if value is None or math.isnan(value) else f"{value:.3f}"


def _metric_rows(measured: dict[str, Any]) -> list[list[str]]:
    """One row per measure of ``GET /metrics``: its name, value and what it was measured
    under (reference point, weights, the known front), so no number stands alone."""
    reference = measured["reference_point"]
    conventions = measured["conventions"]
    measured_as = (f"; eval γ {conventions['eval_gamma']}, "
                   f"{'discounted' if conventions.get('discounted') else 'undiscounted'}"
                   if "eval_gamma" in conventions else "")
    eu = measured["expected_utility"]
    rows = [
        ["hypervolume", _number(measured["hypervolume"]),
         (f"exact, reference point {reference} ({measured['reference_point_source']})"
          if reference else "no reference point yet") + measured_as],
        ["front size", str(measured["front_size"]), "evaluations on the front"],
        ["cardinality", str(measured["cardinality"]), "distinct objective vectors on the front"],
        ["sparsity", _number(measured["sparsity"]), "over the distinct vectors; lower is denser"],
        ["expected utility", _number(eu["value"]), f"mean over {eu['n_weights']} weights"],
    ]
    known = measured["known_front"]
    if known:
        discount = f" at γ {known['gamma']}" if "eval_gamma" in conventions else ""
        against = f"known front: {known['size']} points{discount}"
        ratio = known["hypervolume_ratio"]
        rows += [
            ["HV ratio", "" if ratio is None else f"{100 * ratio:.2f}%",
             f"of the known front's {_number(known['hypervolume'])}"],
            ["IGD", _number(known["igd"]), f"{against}; lower is better"],
            ["IGD+", _number(known["igd_plus"]), f"{against}; lower is better"],
            ["maximum utility loss", _number(known["maximum_utility_loss"]),
             f"over the {eu['n_weights']} weights; lower is better"],
            ["coverage", f"{100 * known['coverage']:.1f}%",
             f"known points reached within {[round(t, 6) for t in known['coverage_tolerance']]}"],
        ]
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _rollout(args: argparse.Namespace) -> int:
    """Download the evaluation's policy through the API, build its campaign's environment
    from the stored problem, and run it as the campaign measures returns (its
    ``eval_gamma``), so the numbers printed can be set beside the stored ones."""
    if args.episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {args.episodes}")
    if args.gif is not None and args.render is None:
        raise UserError("--gif needs --render rgb_array")
    with _client(args) as client:
        evaluation = _call(lambda: client.evaluation(args.evaluation_id))
        campaign = _call(lambda: client.campaign(evaluation["campaign_id"])).data
        what = (f"evaluation {evaluation['id']} of campaign {campaign['id']} "
                f"({campaign['algorithm']})")
        if evaluation["kind"] != "policy" or evaluation["artifact_id"] is None:
            raise UserError(f"{what} is a {evaluation['kind']} without a policy: "
                            "only MORL campaigns' evaluations can be rolled out")
        artifact = _call(lambda: client.download_policy(args.evaluation_id))
    problem = campaign["problem"]
    policy = _load_policy(artifact, what)
    if policy.env_id != problem.get("id"):
        raise UserError(f"{what}: the policy was trained on {policy.env_id}, "
                        f"the campaign's problem is {problem.get('id')}")
    preference = evaluation["params"].get("preference")
    if args.preference is not None:
        if policy.kind == "ppo":
            raise UserError(f"--preference: {what} is a single policy, not a "
                            "preference-conditioned one; it acts without a preference")
        preference = _preference(args.preference, len(campaign["objectives"]))
    env = _environment(problem, args.render)
    gamma = float(campaign["conventions"].get("eval_gamma", 1.0))
    from morl.evaluation import evaluate

    try:
        returns = evaluate(_act(policy, preference), env, args.episodes, gamma, args.seed,
                           render=args.render is not None)
        fps = float(env.metadata.get("render_fps") or 10)
    finally:
        env.close()
    at = "" if policy.kind == "ppo" else f" at preference {preference}"
    print(f"{what} on {problem['id']}{at}: {args.episodes} episodes from seed {args.seed}, "
          f"lengths {', '.join(map(str, returns.episode_lengths))}")
    names = [o["name"] for o in campaign["objectives"]]
    _print_table(
        ["objective", f"discounted (gamma {gamma:g})", "undiscounted"],
        [[name, f"{d:.10g}", f"{u:.10g}"]
         for name, d, u in zip(names, returns.discounted, returns.undiscounted)])
    if args.render is not None:
        path = args.gif or Path(f"evaluation-{evaluation['id']}.gif")
        _write_gif(path, returns.frames, fps)
        print(f"wrote {path} ({len(returns.frames)} frames)")
    return 0


def _load_policy(artifact: bytes, what: str) -> Any:
    from morl import load_policy

    try:
        return load_policy(artifact)
    except ValueError as exc:
        raise UserError(f"{what}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- torch.load fails in many ways on foreign bytes
        raise UserError(f"{what}: its artifact is not a mofront policy "
                        f"(torch cannot read it: {type(exc).__name__})") from None


def _environment(problem: dict[str, Any], render_mode: str | None) -> Any:
    """The campaign's environment, built from its stored problem (id and parameters)."""
    from morl.problems import catalogue

    definition = catalogue().get(problem.get("id", ""))
    if problem.get("kind") != "mo-gymnasium" or definition is None:
        raise UserError(f"problem {problem.get('kind')}:{problem.get('id')} is not an "
                        "MO-Gymnasium environment mofront knows")
    parameters = {key: value for key, value in problem.items() if key not in ("kind", "id")}
    built = definition.build(definition.config.model_validate(parameters))
    # Rendering starts pygame, whose audio probe prints ALSA errors on a machine with no
    # sound card; gymnasium warns about float32 bounds at creation. Neither helps here.
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return built.make_env(render_mode)


def _act(policy: Any, preference: list[float] | None) -> Any:
    """A policy acts alone (C-MORL: one network per evaluation). A preference-conditioned
    one (PD-MORL: one network shared by many rows) acts for a preference: the row's own,
    or the one given with ``--preference``."""
    if policy.kind == "ppo":
        return policy.act
    return lambda obs: policy.act(obs, preference)


def _preference(text: str, n_objectives: int) -> list[float]:
    from pareto import check_preference

    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"--preference must be comma-separated numbers, got {text!r}") from None
    try:
        return [float(w) for w in check_preference(weights, n_objectives)]
    except ValueError as exc:
        raise UserError(f"--preference: {exc}") from None


def _write_gif(path: Path, frames: list[Any], fps: float) -> None:
    import imageio.v3 as imageio

    try:
        imageio.imwrite(path, frames, extension=".gif", duration=1000 / fps, loop=0)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _refuse_open_bind(args: argparse.Namespace) -> None:
    """Refuse to listen beyond this machine while the store has no API token: anyone
    who can reach the port could submit, cancel and delete campaigns."""
    from storage import tokens_exist

    with _store(args.db) as session:
        if tokens_exist(session):
            return
    raise UserError(
        f"refusing to serve on {args.host}, beyond this machine, with no API token: anyone "
        "who can reach it could submit and delete campaigns. Create a token first with "
        f"`mofront token create --scope admin --db {args.db}` (then send it as "
        "'Authorization: Bearer <token>'), or pass --insecure on a trusted network.")


def _token_create(args: argparse.Namespace) -> int:
    from storage import create_token

    with _store(args.db) as session:
        token, secret = create_token(session, args.scope, args.name)
        session.commit()
        print(f"token {token.id} ({token.scope}{', ' + token.name if token.name else ''}); "
              "its secret, shown this once:", file=sys.stderr)
    print(secret)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    from storage import list_tokens

    with _store(args.db) as session:
        tokens = list_tokens(session)
    _print_table(["id", "name", "scope", "prefix", "created", "revoked"], [
        [t.id, t.name, t.scope, f"{t.prefix}…", f"{t.created_at:%Y-%m-%d %H:%M}",
         "" if t.revoked_at is None else f"{t.revoked_at:%Y-%m-%d %H:%M}"]
        for t in tokens
    ])
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from storage import revoke_token

    with _store(args.db) as session:
        token = revoke_token(session, args.id)
        if token is None:
            raise UserError(f"token {args.id} does not exist (see `mofront token list`)")
        session.commit()
    print(f"token {args.id} revoked")
    return 0


@contextmanager
def _store(db: str) -> Iterator[Any]:
    """A session on the store at ``db``, migrated to the current schema. It may write
    while a server runs: on SQLite it takes the write lock at BEGIN (see storage.engine)."""
    from storage import database_url, make_engine, make_sessionmaker, upgrade

    engine = make_engine(database_url(db))
    try:
        upgrade(engine)
        with make_sessionmaker(engine.execution_options(sqlite_immediate=True))() as session:
            yield session
    finally:
        engine.dispose()


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage import database_url, make_engine, upgrade

    url = database_url(args.db)
    upgrade(make_engine(url))
    print(f"mofront: {args.db} is at the current schema")
    return 0


def _client(args: argparse.Namespace) -> Any:
    from api.client import Client

    return Client(args.url, token=args.token)


def _call(action: Any) -> Any:
    import httpx

    from api.client import APIError

    try:
        return action()
    except APIError as exc:
        raise UserError(str(exc)) from None
    except httpx.TransportError as exc:
        raise UserError(f"cannot reach the server ({exc}); is `mofront serve` running?") from None


def _print_table(header: list[str], rows: list[list[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines when piped, for scripts."""
    if not sys.stdout.isatty():
        for row in [header, *rows]:
            print("\t".join(map(str, row)))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*header)
    for row in rows:
        table.add_row(*map(str, row))
    Console().print(table)


if __name__ == "__main__":
    sys.exit(main())
