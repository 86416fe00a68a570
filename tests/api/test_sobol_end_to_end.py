"""The acceptance path of the service core, against a real server on SQLite and
PostgreSQL: a sobol campaign on ZDT1 with 200 evaluations runs to the end, every
evaluation is stored, the front is exactly the non-dominated subset, and the
hypervolume equals moocore's on the stored values."""

from __future__ import annotations

import moocore
import numpy as np

from tests.conftest import wait_for

SPEC = {
    "name": "zdt1-sobol",
    "algorithm": "sobol",
    "problem": {"kind": "test-function", "id": "zdt1", "dim": 4},
    "budget": {"evaluations": 200},
    "params": {"batch_size": 16},
    "seed": 7,
}


def brute_force_front(points: np.ndarray) -> set[int]:
    """Indices of points no other point dominates (minimisation), by pairwise comparison."""
    keep = set()
    for i, p in enumerate(points):
        if not any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(points) if j != i):
            keep.add(i)
    return keep


def test_sobol_campaign_on_zdt1_end_to_end(database, make_server):
    server = make_server(database).start()
    with server.client() as http:
        created = http.post("/campaigns", json=SPEC)
        assert created.status_code == 201, created.text
        campaign = created.json()
        assert campaign["status"] == "queued"
        assert campaign["objectives"] == [
            {"name": "f1", "sense": "minimize"}, {"name": "f2", "sense": "minimize"}]
        assert campaign["reference_point"] == [11.0, 11.0]
        assert campaign["reference_point_source"] == "published"

        done = wait_for(
            lambda: (c := http.get(f"/campaigns/{campaign['id']}").json())["status"]
            in ("succeeded", "failed", "cancelled") and c,
            what="the campaign to finish",
        )
        assert done["status"] == "succeeded", done
        assert done["progress"] == 1.0
        assert done["n_evaluations"] == 200

        page = http.get(f"/campaigns/{campaign['id']}/evaluations", params={"limit": 1000}).json()
        assert page["total"] == 200
        assert sorted(item["seq"] for item in page["items"]) == list(range(200))
        objectives = np.array([item["objectives"] for item in page["items"]])
        assert np.isfinite(objectives).all()
        for item in page["items"]:
            assert set(item["params"]) == {"x0", "x1", "x2", "x3"}
            assert all(0.0 <= v <= 1.0 for v in item["params"].values())

        front = http.get(f"/campaigns/{campaign['id']}/front").json()
        expected_ids = {page["items"][i]["id"] for i in brute_force_front(objectives)}
        assert {p["evaluation_id"] for p in front["points"]} == expected_ids
        assert done["front_size"] == len(expected_ids)

        on_front = http.get(f"/campaigns/{campaign['id']}/evaluations",
                            params={"on_front": True, "limit": 1000}).json()
        assert {item["id"] for item in on_front["items"]} == expected_ids

        hv = http.get(f"/campaigns/{campaign['id']}/hypervolume").json()
        assert hv["reference_point"] == [11.0, 11.0]
        assert hv["hypervolume"] == moocore.hypervolume(objectives, ref=[11.0, 11.0])
        assert 100 < hv["hypervolume"] < 120.67  # below ZDT1's true maximum

        custom = http.get(f"/campaigns/{campaign['id']}/hypervolume",
                          params={"reference_point": "2,3"}).json()
        assert custom["reference_point"] == [2.0, 3.0]
        assert np.isclose(custom["hypervolume"], moocore.hypervolume(objectives, ref=[2.0, 3.0]))
        front_values = np.array([p["objectives"] for p in front["points"]])
        assert hv["front_points_counted"] == int(np.all(front_values < 11.0, axis=1).sum())
        assert custom["front_points_counted"] == int(
            np.all(front_values < [2.0, 3.0], axis=1).sum())
        # Both objectives are minimised: a point below the front encloses nothing.
        past = http.get(f"/campaigns/{campaign['id']}/hypervolume",
                        params={"reference_point": "0,0"}).json()
        assert past["hypervolume"] == 0.0 and past["front_points_counted"] == 0
        assert past["front_size"] == len(front["points"])

        history = http.get(f"/campaigns/{campaign['id']}/history").json()
        assert [p["n_evaluations"] for p in history["points"]][-1] == 200
        hvs = [p["hypervolume"] for p in history["points"]]
        assert hvs == sorted(hvs)  # a front only grows under a fixed reference point
        assert hvs[-1] == hv["hypervolume"]


def test_front_on_a_subset_of_objectives(sqlite_database, make_server):
    server = make_server(sqlite_database).start()
    with server.client() as http:
        spec = {**SPEC, "problem": {"kind": "test-function", "id": "dtlz2", "dim": 6,
                                    "num_objectives": 3}, "budget": {"evaluations": 120}}
        campaign = http.post("/campaigns", json=spec).json()
        wait_for(lambda: http.get(f"/campaigns/{campaign['id']}").json()["status"] == "succeeded",
                 what="the campaign to succeed")
        items = http.get(f"/campaigns/{campaign['id']}/evaluations",
                         params={"limit": 1000}).json()["items"]
        subset = http.get(f"/campaigns/{campaign['id']}/front",
                          params={"objectives": "f3,f1"}).json()
        assert [o["name"] for o in subset["objectives"]] == ["f3", "f1"]
        projected = np.array([[item["objectives"][2], item["objectives"][0]] for item in items])
        expected = {items[i]["id"] for i in brute_force_front(projected)}
        assert {p["evaluation_id"] for p in subset["points"]} == expected
        assert all(len(p["objectives"]) == 2 for p in subset["points"])
