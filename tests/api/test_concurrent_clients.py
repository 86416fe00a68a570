"""The service under concurrent ask/tell clients: 4 client processes tell results to one
campaign through a real ``mofront serve`` while 8 reader threads query its front over
HTTP, on SQLite and PostgreSQL. Every told point is stored exactly once (seqs 0…n-1,
no point twice, none missing) and every front read is mutually non-dominated."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pareto import to_maximization
from tests.storage.store_helpers import brute_force_front_mask

REPO = Path(__file__).resolve().parents[2]
N_CLIENTS, N_READERS, N_BATCHES, BATCH_SIZE = 4, 8, 10, 10
SENSES = ["maximize", "minimize"]
PROBLEM = {"kind": "external", "parameters": [{"name": "x", "low": 0, "high": 10}],
           "objectives": [{"name": "gain", "sense": "maximize"},
                          {"name": "loss", "sense": "minimize"}]}


def test_four_tell_clients_and_eight_front_readers(database: str, make_server: Any) -> None:
    server = make_server(database).start()
    total = N_CLIENTS * N_BATCHES * BATCH_SIZE
    with server.client() as http:
        campaign = http.post("/campaigns", json={
            "algorithm": "sobol", "problem": PROBLEM, "budget": {"evaluations": total}}).json()
    cid = campaign["id"]
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.api.tell_client", server.url, str(cid), str(c),
             str(N_BATCHES), str(BATCH_SIZE)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        for c in range(N_CLIENTS)
    ]
    for client in clients:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "ready", client.communicate()[1]

    telling = threading.Event()
    telling.set()

    def read_fronts() -> list[list[dict]]:
        reads = []
        with server.client() as reader:
            while True:
                still_telling = telling.is_set()
                response = reader.get(f"/campaigns/{cid}/front")
                assert response.status_code == 200, response.text
                reads.append(response.json()["points"])
                if not still_telling:
                    return reads

    with ThreadPoolExecutor(N_READERS) as pool:
        readers = [pool.submit(read_fronts) for _ in range(N_READERS)]
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        for client in clients:
            stdout, stderr = client.communicate(timeout=240)
            assert client.returncode == 0, stderr
            assert stdout.strip() == "done"
        telling.clear()
        per_reader = [reader.result(timeout=60) for reader in readers]

    with server.client() as http:
        state = http.get(f"/campaigns/{cid}").json()
        rows = http.get(f"/campaigns/{cid}/evaluations", params={"limit": total}).json()
    items = rows["items"]
    assert state["status"] == "succeeded" and state["n_evaluations"] == total
    assert sorted(item["seq"] for item in items) == list(range(total))
    told = sorted(c + k / 1000 for c in range(N_CLIENTS) for k in range(N_BATCHES * BATCH_SIZE))
    assert sorted(item["params"]["x"] for item in items) == told  # each exactly once
    stored = {item["id"]: item["objectives"] for item in items}
    expected = brute_force_front_mask(to_maximization([item["objectives"] for item in items],
                                                      SENSES))
    final_front = sorted(item["id"] for item, on in zip(items, expected) if on)

    reads = [read for reader_reads in per_reader for read in reader_reads]
    assert len(reads) > 2 * N_READERS  # the readers overlapped the clients
    for read in reads:
        assert all(stored[p["evaluation_id"]] == p["objectives"] for p in read)
        if read:
            values = to_maximization([p["objectives"] for p in read], SENSES)
            assert brute_force_front_mask(values).all(), "a front read holds a dominated point"
    for reader_reads in per_reader:  # read after the last tell: exactly the final front
        assert sorted(p["evaluation_id"] for p in reader_reads[-1]) == final_front
    assert np.count_nonzero(expected) == state["front_size"]
