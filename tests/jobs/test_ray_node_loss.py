"""A Ray node lost mid-campaign: the campaign resumes from its checkpoint on another
node with exactly its budget of evaluations. A real multi-node Ray cluster on this
machine (``ray.cluster_utils.Cluster``: a head with no CPUs and one-CPU worker nodes,
each its own raylet), a real ``mofront serve --executor ray``, real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import _fresh_postgres_database, wait_for

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

SPEC = {
    "algorithm": "sobol",
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4, "evaluation_delay": 0.05},
    "budget": {"evaluations": 300},
    "params": {"batch_size": 5},
    "seed": 5,
    "resources": {"cpus": 1},
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A head that runs no campaign (0 CPUs) and detects a dead node within ~2 s."""
    cluster = cluster_utils.Cluster(
        initialize_head=True, connect=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False, "_system_config": {
            "health_check_period_ms": 500, "health_check_failure_threshold": 3}},
    )
    try:
        yield cluster
    finally:
        ray.shutdown()  # this test process is a driver: disconnect before the nodes go
        cluster.shutdown()


@pytest.fixture
def pg_database(postgres_available: str | None) -> Iterator[str]:
    if postgres_available is not None:
        pytest.skip(postgres_available)
    url, drop = _fresh_postgres_database()
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


def test_lost_node_resumes_the_campaign_on_another_node(cluster, pg_database, make_server):
    first_node = cluster.add_node(num_cpus=1)  # the only node with a CPU: the campaign goes here
    cluster.wait_for_nodes()
    server = make_server(pg_database, workers=10, extra_args=[
        "--executor", "ray", "--ray-address", cluster.address]).start()
    try:
        with server.client() as http:
            cid = http.post("/campaigns", json=SPEC).json()["id"]
            running = wait_for(
                lambda: (c := http.get(f"/campaigns/{cid}").json())["n_evaluations"] >= 40 and c,
                what="the campaign to record some evaluations on the first node")
            cluster.add_node(num_cpus=1)  # somewhere to go
            cluster.wait_for_nodes()
            cluster.remove_node(first_node, allow_graceful=False)  # its raylet and workers die

            done = wait_for(lambda: (c := http.get(f"/campaigns/{cid}").json())["status"]
                            in ("succeeded", "failed", "cancelled") and c,
                            what="the campaign to finish on the other node")
            assert done["status"] == "succeeded", done
            assert done["attempts"] == 2
            assert done["worker"] != running["worker"]
            page = http.get(f"/campaigns/{cid}/evaluations", params={"limit": 1000}).json()
            assert page["total"] == 300
            assert sorted(item["seq"] for item in page["items"]) == list(range(300))
    finally:
        server.stop()
