"""The Python client and the ``mofront`` CLI against a real server."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import moocore
import pandas as pd
import pytest

from api.client import APIError, Client

SPEC = {
    "name": "branin-currin-sobol",
    "algorithm": "sobol",
    "problem": {"kind": "test-function", "id": "branin-currin"},
    "budget": {"evaluations": 64},
    "params": {"batch_size": 8},
    "seed": 1,
}


@pytest.fixture
def server(sqlite_database, make_server):
    return make_server(sqlite_database).start()


def test_client_submits_waits_and_returns_dataframes(server):
    with Client(server.url) as client:
        campaign = client.submit(SPEC)
        assert campaign.status == "queued"
        campaign.wait(progress=False, poll_seconds=0.2, timeout=120)
        assert campaign.status == "succeeded"

        evaluations = campaign.evaluations(page_size=10)  # several pages
        assert len(evaluations) == 64
        assert list(evaluations["seq"]) == list(range(64))
        assert {"branin", "currin", "param.x0", "param.x1", "on_front"} <= set(evaluations)

        front = campaign.front()
        assert isinstance(front, pd.DataFrame)
        shares = campaign.front(contributions=True)
        assert list(shares["evaluation_id"]) == list(front["evaluation_id"])
        assert shares.attrs["reference_point"] == [18.0, 6.0]
        costs = shares[["branin", "currin"]].to_numpy()
        assert list(shares["hv_contribution"]) == pytest.approx(
            moocore.hv_contributions(costs, ref=[18.0, 6.0]).tolist(), rel=1e-9, abs=1e-12)
        assert set(front["evaluation_id"]) == set(
            evaluations.loc[evaluations["on_front"], "evaluation_id"])
        values = evaluations[["branin", "currin"]].to_numpy()
        expected = moocore.is_nondominated(values, keep_weakly=True)
        assert set(front["evaluation_id"]) == set(evaluations["evaluation_id"][expected])

        assert campaign.hypervolume() == pytest.approx(
            moocore.hypervolume(values, ref=[18.0, 6.0]), rel=1e-12)
        assert campaign.hypervolume([300, 15]) == pytest.approx(
            moocore.hypervolume(values, ref=[300.0, 15.0]), rel=1e-12)
        history = campaign.history()
        assert history["n_evaluations"].iloc[-1] == 64
        assert history.attrs["reference_point"] == [18.0, 6.0]

        other = client.submit(SPEC | {"seed": 2}).wait(progress=False, poll_seconds=0.2)
        surfaces = client.attainment([campaign.id, other.id])
        assert list(surfaces) == [50.0, 100.0]
        assert surfaces[50.0].attrs["runs_needed"] == 1
        union = pd.concat([front, other.front()])[["branin", "currin"]].to_numpy()
        best = union[moocore.is_nondominated(union)]  # moocore minimises, as both objectives
        assert sorted(map(tuple, surfaces[50.0].to_numpy())) == sorted(map(tuple, best))
        table = client.compare([campaign.id, other.id])
        assert list(table["campaign_id"]) == [campaign.id, other.id]
        assert table.attrs["reference_point"] == [18.0, 6.0]
        assert table["hypervolume"].iloc[0] == pytest.approx(campaign.hypervolume())

        with pytest.raises(APIError) as refused:
            client.submit(SPEC | {"algorithm": "nope"})
        assert refused.value.status_code == 422
        assert "algorithm: unknown algorithm 'nope'" in str(refused.value)


def test_client_imports_without_torch():
    code = "import sys, api.client; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_server_lists_and_validates_without_importing_torch():
    code = ("import sys, api.app, jobs.registry, jobs.spec; api.app.create_app(); "
            "jobs.registry.describe(); jobs.spec.validate({'algorithm': 'sobol', 'problem': "
            "{'kind': 'test-function', 'id': 'zdt1'}, 'budget': {'evaluations': 5}}); "
            "assert 'torch' not in sys.modules and 'botorch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def mofront(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], input=stdin, check=False,
                          capture_output=True, text=True, timeout=180)


def test_cli_submit_wait_status_front(server, tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(SPEC))
    submitted = mofront("submit", str(spec_file), "--wait", "--url", server.url)
    assert submitted.returncode == 0, submitted.stderr
    assert "succeeded: 64 evaluations" in submitted.stdout
    campaign_id = int(submitted.stdout.split()[1])

    listing = mofront("status", "--url", server.url)
    assert listing.returncode == 0 and "branin-currin-sobol" in listing.stdout
    one = json.loads(mofront("status", str(campaign_id), "--url", server.url).stdout)
    assert one["status"] == "succeeded" and one["n_evaluations"] == 64

    csv = mofront("front", str(campaign_id), "--url", server.url)
    assert csv.returncode == 0, csv.stderr
    front = pd.read_csv(io.StringIO(csv.stdout))
    assert len(front) == one["front_size"]
    assert {"evaluation_id", "branin", "currin"} <= set(front.columns)
    shares = pd.read_csv(io.StringIO(mofront(
        "front", str(campaign_id), "--contributions", "--url", server.url).stdout))
    assert list(shares["evaluation_id"]) == list(front["evaluation_id"])
    assert list(shares["hv_contribution"]) == pytest.approx(moocore.hv_contributions(
        shares[["branin", "currin"]].to_numpy(), ref=[18.0, 6.0]).tolist(), abs=1e-9)

    from_stdin = mofront("submit", "-", "--url", server.url, stdin=json.dumps(SPEC))
    assert from_stdin.returncode == 0 and "queued" in from_stdin.stdout


def test_evaluations_carry_feasibility_and_constraint_slacks(server):
    """Every evaluation, infeasible ones too, from the client and as the CLI's CSV."""
    spec = {"algorithm": "sobol", "budget": {"evaluations": 24}, "params": {"batch_size": 8},
            "problem": {"kind": "test-function", "id": "constrained-branin-currin"}, "seed": 0}
    with Client(server.url) as client:
        campaign = client.submit(spec).wait(progress=False, poll_seconds=0.2, timeout=120)
        evaluations = campaign.evaluations()
        items = client.request("GET", f"/campaigns/{campaign.id}/evaluations",
                               params={"limit": 100})["items"]
    assert len(evaluations) == 24
    assert list(evaluations["feasible"]) == [item["feasible"] for item in items]
    assert list(evaluations["constraint.c0"]) == [item["constraints"][0] for item in items]
    assert not evaluations["feasible"].all()  # Sobol points outside the feasible disc
    assert list(evaluations["feasible"]) == list(evaluations["constraint.c0"] >= 0)

    csv = mofront("evaluations", str(campaign.id), "--url", server.url)
    assert csv.returncode == 0, csv.stderr
    printed = pd.read_csv(io.StringIO(csv.stdout))
    pd.testing.assert_frame_equal(printed.drop(columns="created_at"),
                                  evaluations.drop(columns="created_at"), check_dtype=False)
    on_front = pd.read_csv(io.StringIO(
        mofront("evaluations", str(campaign.id), "--on-front", "--url", server.url).stdout))
    assert list(on_front["evaluation_id"]) == list(
        evaluations.loc[evaluations["on_front"], "evaluation_id"])
    assert on_front["feasible"].all()


def test_cli_errors_are_one_line(server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(SPEC | {"params": {"batch_sise": 4}}))
    refused = mofront("submit", str(bad), "--url", server.url)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "params.batch_sise: unknown field 'batch_sise'" in refused.stderr

    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert "is not valid JSON" in mofront("submit", str(not_json), "--url", server.url).stderr
    missing = mofront("submit", str(tmp_path / "missing.json"), "--url", server.url)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    unknown = mofront("status", "999", "--url", server.url)
    assert unknown.returncode == 2 and "campaign 999 does not exist" in unknown.stderr
    down = mofront("status", "--url", "http://127.0.0.1:9")
    assert down.returncode == 2 and "is `mofront serve` running?" in down.stderr


def test_cli_db_upgrade_creates_the_schema(tmp_path):
    db = tmp_path / "fresh.db"
    upgraded = mofront("db", "upgrade", "--db", str(db))
    assert upgraded.returncode == 0, upgraded.stderr
    import sqlite3

    tables = {row[0] for row in sqlite3.connect(db).execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"campaigns", "evaluations", "artifacts", "metric_snapshots", "checkpoints",
            "alembic_version"} <= tables
    assert mofront("db", "upgrade", "--db", str(db)).returncode == 0  # idempotent
