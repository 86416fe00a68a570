"""API tokens: every route under /api/v1 (enumerated from the app, so a new route cannot
be missed) refuses a missing or wrong token with 401 and a token of too narrow a scope
with 403; liveness stays open; the CLI creates, lists and revokes tokens; ``mofront
serve`` refuses a non-loopback bind with no token unless ``--insecure``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.client import APIError, Client
from api.settings import Settings
from storage import (
    NewEvaluation,
    append_evaluations,
    create_token,
    list_tokens,
    make_engine,
    make_sessionmaker,
    revoke_token,
)
from storage.models import TOKEN_SCOPES

OPEN_ROUTES = {("GET", "/api/v1/healthz")}
SPEC = {"algorithm": "sobol", "problem": {"kind": "test-function", "id": "branin-currin"},
        "budget": {"evaluations": 10}}


def needed_scope(method: str) -> str:
    """The policy: reading needs read, deleting admin, any other write submit."""
    if method in ("GET", "HEAD"):
        return "read"
    return "admin" if method == "DELETE" else "submit"


class Store:
    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)

    def token(self, scope: str) -> str:
        with self.sessions() as session:
            _, secret = create_token(session, scope, name=f"test {scope}")
            session.commit()
        return secret


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    store = Store(database)
    yield store
    store.engine.dispose()


@pytest.fixture
def http(database: str, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database, run_scheduler=False))) as client:
        yield client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def app_routes(app: Any) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route of the app, included routers flattened."""
    try:  # FastAPI >= 0.16x keeps included routers as lazy branches of app.routes
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older: app.routes is already flat
        return [(r.path, set(r.methods)) for r in app.routes if isinstance(r, APIRoute)]
    return [(r.path, set(r.methods)) for r in iter_route_contexts(app.routes)
            if isinstance(r.original_route, APIRoute)]


def protected_requests(app: Any, campaign_id: int, evaluation_id: int) -> list[tuple[str, str]]:
    """(method, url) for every route under /api/v1 but the open ones, DELETE last."""
    values = {"campaign_id": campaign_id, "evaluation_id": evaluation_id}
    found = []
    for path, methods in app_routes(app):
        if not path.startswith("/api/v1"):
            continue
        for method in sorted(methods):
            if (method, path) in OPEN_ROUTES:
                continue
            names = re.findall(r"{(\w+)}", path)
            missing = [name for name in names if name not in values]
            assert not missing, f"{path}: give this test a value for {missing}"
            found.append((method, path.format(**values)))
    found.append(("GET", "/metrics"))
    assert len(found) >= 15, found
    return sorted(found, key=lambda request: request[0] == "DELETE")


def test_every_route_needs_a_token_of_its_scope(http: TestClient, store: Store) -> None:
    campaign = http.post("/api/v1/campaigns", json=SPEC).json()  # open: no token yet
    with store.sessions() as session:
        append_evaluations(session, campaign["id"], [
            NewEvaluation(seq=0, objectives=[10.0, 3.0], params={"x0": 0.1, "x1": 0.2})])
    evaluation_id = http.get(f"/api/v1/campaigns/{campaign['id']}/evaluations").json()[
        "items"][0]["id"]
    tokens = {scope: store.token(scope) for scope in TOKEN_SCOPES}

    for method, url in protected_requests(http.app, campaign["id"], evaluation_id):
        needed = needed_scope(method)
        missing = http.request(method, url)
        assert missing.status_code == 401, (method, url, missing.text)
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "mofront token create" in missing.json()["detail"]
        wrong = http.request(method, url, headers=bearer("mft_not-a-token"))
        assert wrong.status_code == 401, (method, url, wrong.text)
        assert "unknown or revoked" in wrong.json()["detail"]
        for scope in TOKEN_SCOPES[: TOKEN_SCOPES.index(needed)]:
            narrow = http.request(method, url, headers=bearer(tokens[scope]))
            assert narrow.status_code == 403, (method, url, scope, narrow.text)
            assert f"needs {needed!r}" in narrow.json()["detail"]
        for scope in TOKEN_SCOPES[TOKEN_SCOPES.index(needed):]:
            allowed = http.request(method, url, headers=bearer(tokens[scope]))
            assert allowed.status_code not in (401, 403), (method, url, scope, allowed.text)

    assert http.get("/api/v1/healthz").status_code == 200
    assert http.get("/healthz").status_code == 200


def test_revoked_token_is_refused_and_the_server_stays_closed(http: TestClient,
                                                               store: Store) -> None:
    secret = store.token("read")
    assert http.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 200
    with store.sessions() as session:
        revoke_token(session, list_tokens(session)[0].id)
        session.commit()
    assert http.get("/api/v1/campaigns", headers=bearer(secret)).status_code == 401
    # No active token is left: the loopback-only server is open again, as before tokens.
    assert http.get("/api/v1/campaigns").status_code == 200


def test_open_server_still_refuses_a_wrong_token(http: TestClient) -> None:
    assert http.get("/api/v1/campaigns").status_code == 200
    assert http.get("/api/v1/campaigns", headers=bearer("mft_typo")).status_code == 401


def test_required_tokens_close_the_server_even_before_one_exists(database: str) -> None:
    app = create_app(Settings(database_url=database, run_scheduler=False, require_token=True))
    with TestClient(app) as http:
        assert http.get("/api/v1/campaigns").status_code == 401
        assert http.get("/api/v1/healthz").status_code == 200


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "api.cli", *args], check=False,
                            capture_output=True,
                            text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_creates_lists_and_revokes_tokens_and_the_client_sends_them(
        sqlite_database: str, make_server: Any) -> None:
    created = run_cli("token", "create", "--scope", "submit", "--name", "ci", "--db",
                      sqlite_database)
    secret = created.stdout.strip()
    assert secret.startswith("mft_") and len(secret) > 40
    assert "shown this once" in created.stderr
    listed = run_cli("token", "list", "--db", sqlite_database).stdout
    assert "ci\tsubmit\tmft_" in listed and secret not in listed

    server = make_server(sqlite_database).start()
    with Client(server.url) as anonymous, pytest.raises(APIError) as refused:
        anonymous.campaigns()
    assert refused.value.status_code == 401
    with Client(server.url, token=secret) as client:
        campaign = client.submit(SPEC)
        with pytest.raises(APIError) as not_admin:
            campaign.delete()
        assert not_admin.value.status_code == 403
        assert [c.id for c in client.campaigns()] == [campaign.id]
    status = run_cli("status", "--url", server.url, "--token", secret).stdout
    assert f"{campaign.id}\t" in status

    run_cli("token", "revoke", "1", "--db", sqlite_database)
    assert "revoked" in run_cli("token", "list", "--db", sqlite_database).stdout.split("\n")[0]
    with Client(server.url, token=secret) as client, pytest.raises(APIError) as revoked:
        client.campaigns()
    assert revoked.value.status_code == 401
    missing = run_cli("token", "revoke", "99", "--db", sqlite_database, check=False)
    assert missing.returncode == 2 and "token 99 does not exist" in missing.stderr


def test_serve_refuses_a_public_bind_without_tokens(sqlite_database: str,
                                                     make_server: Any) -> None:
    refused = run_cli("serve", "--host", "0.0.0.0", "--port", "1", "--db", sqlite_database,
                      check=False)
    assert refused.returncode == 2
    assert "refusing to serve on 0.0.0.0" in refused.stderr
    assert f"mofront token create --scope admin --db {sqlite_database}" in refused.stderr
    assert "--insecure" in refused.stderr

    insecure = make_server(sqlite_database, extra_args=["--host", "0.0.0.0", "--insecure"])
    insecure.start()
    assert insecure.client().get("/campaigns").status_code == 200
    insecure.stop()

    secret = run_cli("token", "create", "--scope", "read", "--db", sqlite_database).stdout.strip()
    public = make_server(sqlite_database, extra_args=["--host", "0.0.0.0"]).start()
    assert public.client().get("/campaigns").status_code == 401
    assert public.client().get("/campaigns", headers=bearer(secret)).status_code == 200
    run_cli("token", "revoke", "1", "--db", sqlite_database)
    # Bound beyond loopback, the server keeps requiring a token after the last is revoked.
    assert public.client().get("/campaigns").status_code == 401
    assert httpx.get(f"{public.url}/healthz").status_code == 200
