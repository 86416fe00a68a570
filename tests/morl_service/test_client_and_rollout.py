"""The Python client's policy methods and ``mofront rollout``, against a live
``mofront serve``. The client picks a policy for a preference, reads the known front and
the metrics, and downloads a policy that loads. ``rollout`` downloads a stored
(untrained) policy through the API, runs it in its campaign's environment and prints its
mean return vector, equal to the stored one (Deep Sea Treasure is deterministic); with
``--render rgb_array`` the episodes become a GIF. Evaluations that cannot be rolled out
are refused in one line with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys

import imageio.v3 as imageio
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import APIError, Client
from api.settings import Settings
from morl import load_policy
from morl.problems import known_front
from storage import (
    NewEvaluation,
    append_evaluations,
    make_engine,
    make_sessionmaker,
    store_artifact,
)
from tests.conftest import Server
from tests.morl_service.policy_campaign import store_policy_campaign, store_universal_campaign

pytestmark = pytest.mark.timeout(300)


def mofront(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], check=False,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server over a store holding a C-MORL-style and a PD-MORL-style campaign, a
    policy row whose artifact is not a policy, and a sobol campaign's candidate."""
    path = tmp_path_factory.mktemp("rollout")
    database = f"sqlite:///{path / 'mofront.db'}"
    campaign = store_policy_campaign(database, n_policies=4)
    universal = store_universal_campaign(database)
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as http:
        sobol = http.post("/api/v1/campaigns", json={
            "algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1"},
            "budget": {"evaluations": 10}}).json()
        http.post(f"/api/v1/campaigns/{sobol['id']}/cancel")  # no worker will pick it up
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        garbage = store_artifact(session, b"these bytes are not a policy").id
        session.commit()
    with sessions() as session:
        append_evaluations(session, campaign["id"], [NewEvaluation(
            seq=100, kind="policy", objectives=[0.0, -30.0], artifact_id=garbage)])
    with sessions() as session:
        append_evaluations(session, sobol["id"], [NewEvaluation(
            seq=0, objectives=[0.5, 2.0], params={"x0": 0.1, "x1": 0.2, "x2": 0.3, "x3": 0.4})])
    engine.dispose()
    server = Server(database, path / "server.log").start()
    with server.client() as http:
        policies = http.get(f"/campaigns/{campaign['id']}/evaluations").json()["items"]
        candidate = http.get(f"/campaigns/{sobol['id']}/evaluations").json()["items"][0]
        shared = http.get(f"/campaigns/{universal['id']}/evaluations").json()["items"]
    yield server, policies, candidate, shared
    server.stop()


def test_the_client_picks_reads_and_downloads_policies(served):
    server, policies, candidate, _ = served
    with Client(server.url) as client:
        campaign = client.campaign(policies[0]["campaign_id"])
        best = campaign.best([1, 0])
        assert best["preference"] == [1.0, 0.0]
        chosen = best["evaluation"]
        assert chosen["objectives"][0] == max(p["objectives"][0] for p in policies)
        policy = load_policy(client.download_policy(chosen["id"]))
        assert policy.env_id == "deep-sea-treasure-v0"
        assert campaign.download_policy(chosen["id"]) == client.download_policy(chosen["id"])

        front = campaign.known_front()
        assert list(front.columns) == ["treasure", "time"]
        np.testing.assert_array_equal(front.to_numpy(), known_front("deep-sea-treasure-v0", 0.99))
        assert front.attrs["gamma"] == 0.99
        assert front.attrs["hypervolume"] == pytest.approx(360.4009, abs=1e-3)

        metrics = campaign.metrics()
        assert metrics["hypervolume"] == pytest.approx(campaign.hypervolume(), rel=1e-12)
        assert metrics["known_front"]["size"] == 10

        with pytest.raises(APIError) as refused:
            client.download_policy(candidate["id"])
        assert refused.value.status_code == 404 and "has no artifact" in str(refused.value)
        with pytest.raises(APIError) as bad:
            campaign.best([1, -1])
        assert bad.value.status_code == 422 and "query.preference: preference[1]" in str(bad.value)


def printed_returns(stdout: str) -> dict[str, tuple[float, float]]:
    """{objective: (discounted, undiscounted)} from the table rollout prints."""
    rows = [line.split("\t") for line in stdout.splitlines() if "\t" in line]
    assert rows[0] == ["objective", "discounted (gamma 0.99)", "undiscounted"]
    return {name: (float(d), float(u)) for name, d, u in rows[1:]}


def test_rollout_prints_the_mean_return_vector(served):
    server, policies, _, _ = served
    policy = next(p for p in policies if p["artifact_id"] and p["seq"] < 100)
    done = mofront("rollout", str(policy["id"]), "--episodes", "2", "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert "2 episodes from seed 0" in done.stdout
    returns = printed_returns(done.stdout)
    assert list(returns) == ["treasure", "time"]
    assert [d for d, _ in returns.values()] == pytest.approx(policy["objectives"], rel=1e-9)
    assert [u for _, u in returns.values()] == pytest.approx(policy["meta"]["undiscounted"],
                                                             rel=1e-9)


def test_rollout_conditions_a_shared_network_on_the_rows_preference(served):
    server, _, _, shared = served
    assert len({item["artifact_id"] for item in shared}) == 1  # one network for all rows
    assert len({tuple(item["objectives"]) for item in shared}) > 1, \
        "the untrained network should act differently for different preferences"
    for item in shared:
        done = mofront("rollout", str(item["id"]), "--episodes", "1", "--url", server.url)
        assert done.returncode == 0, done.stderr
        returns = printed_returns(done.stdout)
        assert [d for d, _ in returns.values()] == pytest.approx(item["objectives"], rel=1e-9)


def test_rollout_runs_a_shared_network_at_the_preference_given(served):
    server, _, _, shared = served
    first, other = shared[0], next(item for item in shared
                                   if item["objectives"] != shared[0]["objectives"])
    preference = ",".join(map(str, other["params"]["preference"]))
    done = mofront("rollout", str(first["id"]), "--episodes", "1", "--preference", preference,
                   "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert f"at preference {[float(w) for w in other['params']['preference']]}" in done.stdout
    returns = printed_returns(done.stdout)
    assert [d for d, _ in returns.values()] == pytest.approx(other["objectives"], rel=1e-9)


def test_rollout_renders_a_gif(served, tmp_path):
    server, policies, _, _ = served
    shortest = min((p for p in policies if p["seq"] < 100), key=lambda p: -p["objectives"][1])
    gif = tmp_path / "episodes.gif"
    done = mofront("rollout", str(shortest["id"]), "--episodes", "2", "--render", "rgb_array",
                   "--gif", str(gif), "--seed", "3", "--url", server.url)
    assert done.returncode == 0, done.stderr
    assert gif.stat().st_size > 0
    frames = imageio.imread(gif, index=None)
    lengths = done.stdout.splitlines()[0].rsplit("lengths ", 1)[1].split(", ")
    assert len(frames) == sum(map(int, lengths)) >= 2
    assert frames.shape[-1] == 3 and frames.shape[1] > 100  # rendered pictures, not stubs
    assert f"wrote {gif}" in done.stdout


@pytest.mark.parametrize(("which", "extra", "message"), [
    ("unknown", [], "evaluation 987654 does not exist"),
    ("candidate", [], "is a candidate without a policy"),
    ("garbage", [], "its artifact is not a mofront policy"),
    ("single", ["--preference", "0.5,0.5"], "is a single policy, not a preference-conditioned"),
    ("shared", ["--preference", "1"], "--preference: preference has 1 values"),
    ("shared", ["--preference", "a,b"], "--preference must be comma-separated numbers"),
    ("shared", ["--preference", "0,-1"], "--preference: preference[1] is -1.0"),
])
def test_rollout_refuses_in_one_line(served, which, extra, message):
    server, policies, candidate, shared = served
    evaluation_id = {"unknown": 987654, "candidate": candidate["id"],
                     "garbage": next(p["id"] for p in policies if p["seq"] == 100),
                     "single": next(p["id"] for p in policies if p["artifact_id"]),
                     "shared": shared[0]["id"]}[which]
    refused = mofront("rollout", str(evaluation_id), *extra, "--url", server.url)
    assert refused.returncode != 0
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert message in refused.stderr


def test_metrics_prints_each_measure_with_what_it_was_measured_under(served):
    server, policies, candidate, _ = served
    campaign_id = policies[0]["campaign_id"]
    with Client(server.url) as client:
        measured = client.campaign(campaign_id).metrics()
    printed = mofront("metrics", str(campaign_id), "--url", server.url)
    assert printed.returncode == 0, printed.stderr
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in printed.stdout.splitlines()}
    assert rows.pop("measure") == ["value", "how"]
    assert list(rows) == ["hypervolume", "front size", "cardinality", "sparsity",
                          "expected utility", "HV ratio", "IGD", "IGD+",
                          "maximum utility loss", "coverage"]
    assert float(rows["hypervolume"][0]) == pytest.approx(measured["hypervolume"], rel=1e-5)
    assert rows["hypervolume"][1] == (
        "exact, reference point [0.0, -25.0] (published); eval γ 0.99, discounted")
    assert rows["cardinality"][0] == str(measured["cardinality"])
    known = measured["known_front"]
    assert float(rows["maximum utility loss"][0]) == pytest.approx(
        known["maximum_utility_loss"], rel=1e-5)
    assert rows["IGD"][1] == "known front: 10 points at γ 0.99; lower is better"

    as_json = mofront("metrics", str(campaign_id), "--json", "--url", server.url)
    assert json.loads(as_json.stdout) == measured

    unknown = mofront("metrics", str(candidate["campaign_id"] + 1000), "--url", server.url)
    assert unknown.returncode == 2
    assert unknown.stderr == f"mofront: HTTP 404: campaign {candidate['campaign_id'] + 1000} does not exist\n"


@pytest.mark.parametrize("scalarisation", ["linear", "chebyshev"])
def test_best_prints_the_evaluation_a_preference_picks(served, scalarisation):
    server, policies, _, shared = served
    for campaign_id in (policies[0]["campaign_id"], shared[0]["campaign_id"]):
        with Client(server.url) as client:
            answer = client.campaign(campaign_id).best([0.7, 0.3], scalarisation=scalarisation)
        printed = mofront("best", str(campaign_id), "--preference", "0.7,0.3",
                          "--scalarisation", scalarisation, "--url", server.url)
        assert printed.returncode == 0, printed.stderr
        lines = printed.stdout.splitlines()
        chosen = answer["evaluation"]
        assert lines[0] == (
            f"preference (0.7, 0.3), {scalarisation}: evaluation {chosen['id']} (seq "
            f"{chosen['seq']}) of the {answer['front_size']} on the front, utility "
            f"{answer['utility']:.6g}")
        assert lines[1:4] == ["objective\tvalue",
                              f"treasure (maximize)\t{chosen['objectives'][0]:.6g}",
                              f"time (maximize)\t{chosen['objectives'][1]:.6g}"]
        served_network = answer["act_evaluation"]
        if served_network is None:  # one policy per evaluation
            assert not any(line.startswith("to serve it") for line in lines)
        else:
            assert lines[-1] == (
                f"to serve it: the network of evaluation {served_network['id']}, acting with "
                f"(0.7,0.3): mofront rollout {served_network['id']} --preference 0.7,0.3")
        as_json = mofront("best", str(campaign_id), "--preference", "0.7,0.3",
                          "--scalarisation", scalarisation, "--json", "--url", server.url)
        assert json.loads(as_json.stdout) == answer


@pytest.mark.parametrize(("extra", "message"), [
    (["--preference", "a,b"], "--preference must be comma-separated numbers, got 'a,b'"),
    (["--preference", "1"], "preference has 1 values"),
    (["--preference", "1,1", "--scalarisation", "max"], "invalid choice: 'max'"),
])
def test_best_refuses_in_one_line(served, extra, message):
    server, policies, _, _ = served
    refused = mofront("best", str(policies[0]["campaign_id"]), *extra, "--url", server.url)
    assert refused.returncode != 0
    assert message in refused.stderr, refused.stderr
