"""An ask/tell client process for the concurrency test: it tells results for points it
chose itself. Usage, from the repository root: ``python -m tests.api.tell_client URL
CAMPAIGN_ID CLIENT N_BATCHES BATCH_SIZE``. Prints ``ready``, waits for a line on stdin
(so all clients start together), tells its batches and prints ``done``. Point k of
client c has ``x = c + k / 1000``: every told point is told by exactly one client, once."""

from __future__ import annotations

import sys

import httpx


def main() -> None:
    url, campaign_id, client, n_batches, batch_size = sys.argv[1:]
    c, size = int(client), int(batch_size)
    with httpx.Client(base_url=f"{url}/api/v1", timeout=60) as http:
        print("ready", flush=True)
        sys.stdin.readline()
        for batch in range(int(n_batches)):
            results = []
            for k in range(batch * size, (batch + 1) * size):
                x = c + k / 1000
                results.append({"params": {"x": x}, "objectives": [x * (k % 7), -x * (k % 5)]})
            response = http.post(f"/campaigns/{campaign_id}/tell", json={"results": results})
            if response.status_code != 200:
                sys.exit(f"tell answered {response.status_code}: {response.text}")
    print("done", flush=True)


if __name__ == "__main__":
    main()
