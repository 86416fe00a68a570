"""The viewer against a server that requires a token, in a real headless Chromium: it
asks for one when the API answers 401, asks again for a wrong one, keeps the right
one in localStorage, sends it with every request (the list, a campaign, an artifact
download) and does not ask again after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import (
    NewEvaluation,
    append_evaluations,
    create_campaign,
    create_token,
    make_engine,
    make_sessionmaker,
    store_artifact,
    upgrade,
)
from tests.conftest import Server
from tests.storage.store_helpers import campaign_fields

pytestmark = pytest.mark.timeout(180)

WEIGHTS = b"\x00weights\xff" * 300


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, int]]:
    """A server whose store holds a read token and one finished campaign (two
    evaluations, the first with an artifact)."""
    directory = tmp_path_factory.mktemp("web-auth")
    url = f"sqlite:///{directory / 'mofront.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        _, secret = create_token(session, "read", "viewer test")
        campaign = create_campaign(session, **campaign_fields(
            name="guarded-campaign", status="succeeded", reference_point=[0.0, 0.0]))
        artifact_id = store_artifact(session, WEIGHTS, "application/x-test").id
        session.commit()
        campaign_id = campaign.id
    with sessions() as session:
        append_evaluations(session, campaign_id, [
            NewEvaluation(seq=0, objectives=[3.0, 1.0], params={"x0": 0.5}, artifact_id=artifact_id),
            NewEvaluation(seq=1, objectives=[1.0, 3.0], params={"x0": 0.25}),
        ])
    engine.dispose()
    server = Server(url, directory / "server.log").start()
    yield server, secret, campaign_id
    server.stop()


def enter_token(page: Any, token: str) -> None:
    page.locator("#token-input").fill(token)
    page.locator("#token-use").click()


def test_viewer_asks_for_a_token_and_sends_it(page: Any, console_errors: Any,
                                              guarded: tuple[Server, str, int]) -> None:
    server, secret, campaign_id = guarded
    console_errors.allow("status of 401")
    page.goto(f"{server.url}/ui/")
    dialog = page.locator("#token-dialog")
    dialog.wait_for()
    assert "requires an API token" in page.locator("#token-reason").inner_text()
    assert "mofront token create" in dialog.inner_text()

    enter_token(page, "mft_wrong")
    page.locator("#token-reason", has_text="unknown or revoked").wait_for()
    enter_token(page, secret)
    page.locator("#campaigns tr", has_text="guarded-campaign").wait_for()
    assert page.locator("#token-dialog").count() == 0
    assert page.evaluate("localStorage.getItem('mofront.apiToken')") == secret

    page.reload()
    page.locator("#campaigns tr", has_text="guarded-campaign").wait_for()
    assert page.locator("#token-dialog").count() == 0

    page.goto(f"{server.url}/ui/campaign.html?id={campaign_id}")
    page.locator("#front-table tbody tr").first.wait_for()
    page.locator("#front-table tbody tr", has_text="0.5").get_by_role("button").click()
    link = page.locator("#download-artifact")
    link.wait_for()
    with page.expect_download() as started:
        link.click()
    assert Path(started.value.path()).read_bytes() == WEIGHTS
    assert page.locator("#token-dialog").count() == 0


def test_cancelling_the_dialog_shows_the_servers_message(page: Any, console_errors: Any,
                                                         guarded: tuple[Server, str, int]) -> None:
    server, _, _ = guarded
    console_errors.allow("status of 401")
    page.goto(f"{server.url}/ui/")
    page.locator("#token-dialog").wait_for()
    page.locator("#token-cancel").click()
    page.locator("#list-error", has_text="requires an API token").wait_for()
