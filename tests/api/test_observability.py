"""Observability of a real server: Prometheus metrics at /metrics hold the right values
after a tiny campaign (queue length, campaigns by status, evaluations stored, request
latency by route), and the server's and the worker's logs are JSON lines that name
the campaign."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import wait_for

TINY = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1", "dim": 4},
        "budget": {"evaluations": 12}, "params": {"batch_size": 4}}
SLOW = {**TINY, "problem": {**TINY["problem"], "evaluation_delay": 0.2},
        "budget": {"evaluations": 200}, "params": {"batch_size": 2}}


def scrape(server: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def campaigns(metrics: dict, status: str) -> float:
    return metrics[("mofront_campaigns", (("status", status),))]


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_metrics_and_logs_after_a_tiny_campaign(sqlite_database: str, make_server: Any) -> None:
    server = make_server(sqlite_database).start()
    with server.client() as http:
        cid = http.post("/campaigns", json=TINY).json()["id"]
        wait_for(lambda: http.get(f"/campaigns/{cid}").json()["status"] == "succeeded",
                 what="the tiny campaign")
        for _ in range(3):
            assert http.get(f"/campaigns/{cid}/front").status_code == 200
        metrics = scrape(server)
        assert metrics[("mofront_evaluations_stored", ())] == 12
        assert campaigns(metrics, "succeeded") == 1
        assert campaigns(metrics, "running") == 0
        assert metrics[("mofront_queue_length", ())] == 0
        front_requests = ("mofront_request_seconds_count", (
            ("method", "GET"), ("route", "/api/v1/campaigns/{campaign_id}/front"),
            ("status", "200")))
        assert metrics[front_requests] == 3
        submitted = ("mofront_request_seconds_count", (
            ("method", "POST"), ("route", "/api/v1/campaigns"), ("status", "201")))
        assert metrics[submitted] == 1

        # One worker: the first slow campaign runs, the second waits in the queue.
        running = http.post("/campaigns", json=SLOW).json()["id"]
        queued = http.post("/campaigns", json=SLOW).json()["id"]
        wait_for(lambda: http.get(f"/campaigns/{running}").json()["status"] == "running",
                 what="the slow campaign to start")
        metrics = scrape(server)
        assert http.get(f"/campaigns/{queued}").json()["status"] == "queued"
        assert metrics[("mofront_queue_length", ())] == 1
        assert campaigns(metrics, "queued") == 1 and campaigns(metrics, "running") == 1
        assert metrics[("mofront_evaluations_stored", ())] >= 12
        for other in (running, queued):
            http.post(f"/campaigns/{other}/cancel")
        wait_for(lambda: http.get(f"/campaigns/{running}").json()["status"] == "cancelled",
                 what="the slow campaign to stop")

    server_log = json_lines(server.log_path)
    assert any(r["logger"] == "mofront.http" and r.get("campaign_id") == cid
               and r["route"] == "/api/v1/campaigns/{campaign_id}/front" and r["status"] == 200
               and r["duration_ms"] > 0 for r in server_log)
    assert any(r["logger"] == "mofront.scheduler" and r.get("campaign_id") == cid
               and "launched" in r["message"] for r in server_log)
    worker_log = json_lines(server.log_path.parent / "workers" / f"campaign-{cid}.log")
    assert worker_log and all(r["campaign_id"] == cid for r in worker_log)
    assert any(r["message"] == f"campaign {cid} succeeded" for r in worker_log)
