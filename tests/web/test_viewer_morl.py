"""The viewer on a MORL campaign, in a real headless Chromium against a real
``mofront serve``: the evaluation conventions are shown beside the hypervolume, the
problem's known Pareto front is a trace of its own in the front plot, and a policy's
panel downloads the policy. The campaign holds real (untrained) policy artifacts on
Deep Sea Treasure (``tests/morl_service/policy_campaign``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from morl.problems import known_front
from tests.conftest import Server
from tests.morl_service.policy_campaign import DST, store_policy_campaign

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def morl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    directory = tmp_path_factory.mktemp("web-morl")
    database = f"sqlite:///{directory / 'mofront.db'}"
    campaign = store_policy_campaign(database)
    server = Server(database, directory / "server.log").start()
    yield server, httpx.get(f"{server.url}/api/v1/campaigns/{campaign['id']}").json()
    server.stop()


def traces(page: Any) -> list[dict]:
    return page.evaluate(
        "() => document.querySelector('#front-plot').data.map(t => ({role: t.meta && t.meta.role,"
        " x: t.x, y: t.y, ids: t.customdata}))")


def open_campaign(page: Any, server: Server, campaign: dict) -> list[dict]:
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    page.wait_for_function("() => (document.querySelector('#front-plot').data || [])"
                           ".some(t => t.meta && t.meta.role === 'known-front')")
    return traces(page)


def test_conventions_are_shown_beside_the_hypervolume(page, morl):
    server, campaign = morl
    assert campaign["known_front"] is True
    open_campaign(page, server, campaign)
    conventions = page.locator("#conventions")
    shown = {span.get_attribute("data-convention"): span.inner_text()
             for span in conventions.locator("[data-convention]").all()}
    assert shown == {
        "eval_gamma": "eval γ = 0.99",
        "discounted": "discounted returns",
        "eval_episodes": "1 episode per evaluation",
        "reference_point": "reference point (0, -25) (published)",
    }
    # next to the hypervolume: the fact right after it
    assert page.evaluate("() => document.querySelector('#campaign-hv').nextElementSibling.id"
                         ) == "conventions"
    known_hv = page.locator("#known-front-hv dd").inner_text()
    assert known_hv.startswith("360.401 (γ = 0.99); this front reaches ")
    ratio = campaign["hypervolume"] / 360.40094637581575
    assert f"{100 * ratio:.1f}%" in known_hv
    assert "eval γ = 0.99" in page.locator("#history-note").inner_text()


def test_the_known_front_is_its_own_trace(page, morl):
    server, campaign = morl
    drawn = open_campaign(page, server, campaign)
    [known] = [t for t in drawn if t["role"] == "known-front"]
    expected = sorted(map(tuple, known_front(DST, 0.99).tolist()))
    assert sorted(zip(known["x"], known["y"])) == expected  # JSON keeps float64 exactly
    assert known["ids"] == [None] * 10  # not evaluations: a click on one shows nothing
    [front] = [t for t in drawn if t["role"] == "front"]
    stored = httpx.get(f"{server.url}/api/v1/campaigns/{campaign['id']}/front").json()["points"]
    assert sorted(front["ids"]) == sorted(p["evaluation_id"] for p in stored)
    assert "known Pareto front at γ = 0.99" in page.locator("#front-note").inner_text()


def test_a_policy_point_offers_its_policy_for_download(page, morl):
    server, campaign = morl
    drawn = open_campaign(page, server, campaign)
    k = next(i for i, t in enumerate(drawn) if t["role"] == "front")
    # the front's last point (the largest treasure found): two policies found the smallest
    # treasure, so their points lie on one spot and a click there may show either
    target = page.evaluate(
        """k => {
             const gd = document.querySelector('#front-plot');
             const layer = gd.querySelectorAll('.scatterlayer .trace')[k];
             const box = [...layer.querySelectorAll('.points path.point')].at(-1)
               .getBoundingClientRect();
             return {x: box.x + box.width / 2, y: box.y + box.height / 2,
                     id: gd.data[k].customdata.at(-1)};
           }""", k)
    page.mouse.move(target["x"], target["y"])
    page.mouse.click(target["x"], target["y"])
    page.locator(f"#evaluation-detail[data-evaluation-id='{target['id']}']").wait_for()
    link = page.get_by_role("link", name="Download policy")
    assert link.get_attribute("href") == f"/api/v1/evaluations/{target['id']}/artifact"
    with page.expect_download() as started:
        link.click()
    downloaded = Path(started.value.path()).read_bytes()
    artifact = httpx.get(f"{server.url}/api/v1/evaluations/{target['id']}/artifact").content
    assert downloaded == artifact and len(artifact) > 1000
    assert "Preference vector" in page.locator("#evaluation-detail").inner_text()
