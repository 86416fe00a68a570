"""The viewer on a MORL campaign, in a real headless Chromium against a real
``mofront serve``: the evaluation conventions are shown beside the hypervolume, the
problem's known Pareto front is a trace of its own in the front plot, a policy's
panel downloads the policy, and a preference typed in picks an evaluation (for a
PD-MORL campaign, also the network to serve at it). The campaigns hold real
(untrained) policy artifacts on Deep Sea Treasure (``tests/morl_service/policy_campaign``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from morl.problems import known_front
from tests.conftest import Server, wait_for
from tests.morl_service.policy_campaign import DST, store_policy_campaign, store_universal_campaign

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def morl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict, dict]]:
    """A C-MORL-style campaign (one policy per evaluation) and a PD-MORL-style one (one
    network evaluated at three preferences)."""
    directory = tmp_path_factory.mktemp("web-morl")
    database = f"sqlite:///{directory / 'mofront.db'}"
    campaign = store_policy_campaign(database)
    universal = store_universal_campaign(database)
    server = Server(database, directory / "server.log").start()
    yield (server, httpx.get(f"{server.url}/api/v1/campaigns/{campaign['id']}").json(),
           httpx.get(f"{server.url}/api/v1/campaigns/{universal['id']}").json())
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
    server, campaign, _ = morl
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
    assert page.locator("#importance").is_hidden()  # no decision parameters to weigh


def test_the_known_front_is_its_own_trace(page, morl):
    server, campaign, _ = morl
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
    server, campaign, _ = morl
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


def pick(page: Any, typed: str) -> None:
    page.fill("#preference-input", typed)
    page.get_by_role("button", name="Pick").click()


@pytest.mark.parametrize("which", ["single policies", "universal network"])
def test_a_preference_picks_the_evaluation_best_answers(page, morl, which):
    server, single, universal = morl
    campaign = single if which == "single policies" else universal
    open_campaign(page, server, campaign)
    pick(page, "0.9,0.1")
    best = httpx.get(f"{server.url}/api/v1/campaigns/{campaign['id']}/best",
                     params={"preference": "0.9,0.1"}).json()
    picked = best["evaluation"]["id"]
    page.locator(f"#evaluation-detail[data-evaluation-id='{picked}']").wait_for()
    result = page.locator("#preference-result").inner_text()
    assert f"Preference (0.9, 0.1) picks evaluation #{picked}" in result
    served = page.locator("#served-network")
    if which == "single policies":
        assert best["act_evaluation"] is None and served.count() == 0
        return
    network = best["act_evaluation"]
    assert network["params"]["preference"] == [1, 0]  # the grid point nearest (0.9, 0.1)
    assert "acting with (0.9, 0.1)" in served.inner_text()
    assert f"mofront rollout {network['id']} --preference 0.9,0.1" in served.inner_text()
    link = page.locator("#download-served")
    assert link.get_attribute("href") == f"/api/v1/evaluations/{network['id']}/artifact"
    with page.expect_download() as started:
        link.click()
    artifact = httpx.get(f"{server.url}{best['artifact_url']}").content
    assert Path(started.value.path()).read_bytes() == artifact


@pytest.mark.parametrize(("typed", "message"), [
    ("1", "preference has 1 values; give one non-negative weight per objective (2)"),
    ("0.5,-1", "every weight must be a finite number >= 0"),
    ("", "Type one non-negative weight per objective (treasure, time)"),
])
def test_a_bad_preference_shows_why(page, console_errors, morl, typed, message):
    if typed:  # the browser logs the refused GET as a console error: that one is expected
        console_errors.expect("the server responded with a status of 422")
    server, _, universal = morl
    open_campaign(page, server, universal)
    pick(page, typed)
    alert = page.locator("#preference-result [role=alert]")
    alert.wait_for()
    assert message in alert.inner_text()


def quality_rows(page: Any) -> dict[str, str]:
    page.wait_for_selector("#front-quality tbody tr")
    return {row.get_attribute("data-measure"): row.locator("td").first.inner_text()
            for row in page.locator("#front-quality tbody tr").all()}


def test_front_quality_shows_the_metrics_against_the_known_front(page, morl):
    server, campaign, _ = morl
    metrics = httpx.get(f"{server.url}/api/v1/campaigns/{campaign['id']}/metrics").json()
    open_campaign(page, server, campaign)
    shown = quality_rows(page)
    assert list(shown) == ["hypervolume", "cardinality", "sparsity", "expected utility",
                           "HV ratio", "IGD", "IGD+", "maximum utility loss", "coverage"]
    assert shown["cardinality"] == str(metrics["cardinality"])
    for name, key in [("hypervolume", "hypervolume"), ("sparsity", "sparsity")]:
        assert float(shown[name]) == pytest.approx(metrics[key], rel=1e-5)
    assert float(shown["expected utility"]) == pytest.approx(
        metrics["expected_utility"]["value"], rel=1e-5)
    known = metrics["known_front"]
    assert float(shown["IGD"]) == pytest.approx(known["igd"], rel=1e-5)
    assert float(shown["IGD+"]) == pytest.approx(known["igd_plus"], rel=1e-5)
    assert float(shown["maximum utility loss"]) == pytest.approx(
        known["maximum_utility_loss"], rel=1e-5)
    assert shown["HV ratio"] == f"{100 * known['hypervolume_ratio']:.2f}%"
    assert shown["coverage"] == f"{100 * known['coverage']:.1f}%"
    meaning = page.locator("#front-quality tr[data-measure='cardinality'] td").nth(1).inner_text()
    assert f"among the front's {metrics['front_size']} evaluations" in meaning
    assert metrics["cardinality"] < metrics["front_size"]  # policies share return vectors
    assert page.locator("#front-size dd").inner_text() == (
        f"{metrics['front_size']} ({metrics['cardinality']} distinct)")


def test_a_gflownet_known_front_is_not_labelled_with_a_discount(page, morl):
    """A HyperGrid task's objectives are not discounted returns: its known front is
    shown and measured without the γ a MORL campaign states."""
    server, _, _ = morl
    spec = {"algorithm": "mogfn", "problem": {"kind": "gfn-task", "id": "hypergrid", "size": 8},
            "budget": {"evaluations": 128}, "params": {"batch_size": 32}, "seed": 0}
    created = httpx.post(f"{server.url}/api/v1/campaigns", json=spec).json()
    url = f"{server.url}/api/v1/campaigns/{created['id']}"
    wait_for(lambda: httpx.get(url).json()["status"] == "succeeded", timeout=120,
             what="the HyperGrid campaign to succeed")
    campaign = httpx.get(url).json()
    assert campaign["known_front"] is True and campaign["conventions"] == {}
    drawn = open_campaign(page, server, campaign)
    [known] = [t for t in drawn if t["role"] == "known-front"]
    assert len(known["x"]) == len(httpx.get(f"{url}/known-front").json()["points"])
    quality_rows(page)
    texts = [page.locator(selector).inner_text()
             for selector in ("#known-front-hv dd", "#front-note", "#front-quality")]
    assert all("γ" not in text for text in texts), texts
    assert "this front reaches" in texts[0]
    assert "the problem's known Pareto front." in texts[1]
