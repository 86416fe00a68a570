"""The ``mofront`` command: serve, submit, status, front, rollout, db upgrade.

Errors a user can fix (a bad spec, an unknown id, a server that is not up) are printed
as one line on stderr with exit code 2; nothing prints a traceback for them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
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
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--executor", choices=["local"], default="local")
    serve.add_argument("--workers", type=int, default=None,
                       help="campaigns run at once (default: one per GPU, else 1)")
    serve.set_defaults(handler=_serve)

    submit = commands.add_parser("submit", help="submit a campaign spec (JSON file, or - for stdin)")
    submit.add_argument("spec")
    submit.add_argument("--wait", action="store_true", help="wait for it to finish")
    _add_url(submit)
    submit.set_defaults(handler=_submit)

    status = commands.add_parser("status", help="list campaigns, or show one")
    status.add_argument("id", nargs="?", type=int)
    _add_url(status)
    status.set_defaults(handler=_status)

    front = commands.add_parser("front", help="print a campaign's Pareto front as CSV")
    front.add_argument("id", type=int)
    front.add_argument("--objectives", help="comma-separated subset of objective names")
    _add_url(front)
    front.set_defaults(handler=_front)

    rollout = commands.add_parser(
        "rollout", help="run a stored policy in its environment; print its mean returns")
    rollout.add_argument("evaluation_id", type=int, metavar="EVALUATION_ID")
    rollout.add_argument("--episodes", type=int, default=5, help="episodes to run (default 5)")
    rollout.add_argument("--seed", type=int, default=0, help="episode k is reset with seed + k")
    rollout.add_argument("--render", choices=["rgb_array"],
                         help="record the episodes' frames into a GIF")
    rollout.add_argument("--gif", type=Path,
                         help="where the GIF goes (default: evaluation-ID.gif)")
    _add_url(rollout)
    rollout.set_defaults(handler=_rollout)

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

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    settings = Settings(database_url=args.db, host=args.host, port=args.port,
                        executor=args.executor, workers=args.workers)
    print(f"mofront: serving http://{args.host}:{args.port}/ (store: {args.db})", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _submit(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.spec == "-" else Path(args.spec).read_text()
    except OSError as exc:
        raise UserError(f"cannot read {args.spec}: {exc.strerror}") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{args.spec} is not valid JSON: {exc}") from None
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
        frame = _call(lambda: campaign.front(objectives))
    sys.stdout.write(frame.to_csv(index=False))
    return 0


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
    env = _environment(problem, args.render)
    gamma = float(campaign["conventions"].get("eval_gamma", 1.0))
    from morl.evaluation import evaluate

    try:
        returns = evaluate(_act(policy, evaluation), env, args.episodes, gamma, args.seed,
                           render=args.render is not None)
        fps = float(env.metadata.get("render_fps") or 10)
    finally:
        env.close()
    print(f"{what} on {problem['id']}: {args.episodes} episodes from seed {args.seed}, "
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


def _act(policy: Any, evaluation: dict[str, Any]) -> Any:
    """A policy acts alone (C-MORL: one network per evaluation). A preference-conditioned
    one (PD-MORL: one network shared by many rows) acts for the row's preference."""
    if policy.kind == "ppo":
        return policy.act
    preference = evaluation["params"]["preference"]
    return lambda obs: policy.act(obs, preference)


def _write_gif(path: Path, frames: list[Any], fps: float) -> None:
    import imageio.v3 as imageio

    try:
        imageio.imwrite(path, frames, extension=".gif", duration=1000 / fps, loop=0)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


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
