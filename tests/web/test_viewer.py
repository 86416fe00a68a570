"""The web viewer in a real headless Chromium against a real ``mofront serve`` with real
campaigns: the list, a campaign's front (2-D and 3-D), dominated points, a point's
evaluation, the compare page and the submit form. Every test fails on any browser
console error (see ``conftest.page``). The tests save the README's screenshots."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, wait_for
from tests.web.conftest import PHONE, screenshot

pytestmark = pytest.mark.timeout(240)

ZDT1 = {"kind": "test-function", "id": "zdt1", "dim": 4}
BRANIN_CURRIN = {"kind": "test-function", "id": "branin-currin"}
SPECS = {
    "branin-currin-sobol-0": {"algorithm": "sobol", "problem": BRANIN_CURRIN,
                              "budget": {"evaluations": 80}, "params": {"batch_size": 10},
                              "seed": 0},
    "branin-currin-sobol-1": {"algorithm": "sobol", "problem": BRANIN_CURRIN,
                              "budget": {"evaluations": 60}, "params": {"batch_size": 10},
                              "seed": 1},
    "branin-currin-nsga2": {"algorithm": "nsga2", "problem": BRANIN_CURRIN,
                            "budget": {"evaluations": 100}, "params": {"pop_size": 20},
                            "seed": 0},
    "dtlz2-3-objectives": {"algorithm": "sobol", "budget": {"evaluations": 100},
                           "problem": {"kind": "test-function", "id": "dtlz2",
                                       "num_objectives": 3, "dim": 6},
                           "params": {"batch_size": 20}, "seed": 3},
}
COMPARED = ["branin-currin-sobol-0", "branin-currin-sobol-1", "branin-currin-nsga2"]
# Still running while the list is looked at: 100 evaluations at 0.3 s each, 2 a batch.
SLOW = {"name": "zdt1-live", "algorithm": "sobol",
        "problem": {**ZDT1, "evaluation_delay": 0.3},
        "budget": {"evaluations": 100}, "params": {"batch_size": 2}, "seed": 5}


@pytest.fixture(scope="module")
def campaigns(server: Server) -> dict[str, dict]:
    """Four finished campaigns, one running, one cancelled (by name)."""
    with server.client() as http:
        ids = {}
        for name, spec in SPECS.items():
            response = http.post("/campaigns", json={"name": name, **spec})
            assert response.status_code == 201, response.text
            ids[name] = response.json()["id"]
        ids[SLOW["name"]] = http.post("/campaigns", json=SLOW).json()["id"]
        cancelled = http.post("/campaigns", json={**SLOW, "name": "cancelled-in-queue"}).json()
        assert http.post(f"/campaigns/{cancelled['id']}/cancel").json()["status"] == "cancelled"
        ids["cancelled-in-queue"] = cancelled["id"]

        def state(name: str) -> dict:
            return http.get(f"/campaigns/{ids[name]}").json()

        for name in SPECS:
            wait_for(lambda name=name: state(name)["status"] == "succeeded", timeout=180,
                     what=f"campaign {name} to succeed")
        wait_for(lambda: state(SLOW["name"])["n_evaluations"] > 0, timeout=60,
                 what="the slow campaign to record its first batch")
        return {name: state(name) for name in ids}


def plot_data(page, selector: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "s => (document.querySelector(s).data || []).map(t => ({type: t.type, name: t.name,"
        " meta: t.meta || null, n: (t.x || (t.dimensions ? t.dimensions[0].values : [])).length,"
        " ids: t.customdata || null}))", selector)


def count(traces: list[dict], *roles: str) -> int:
    return sum(t["n"] for t in traces if t["meta"] and t["meta"].get("role") in roles)


def wait_for_front(page, selector: str = "#front-plot"):  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "s => { const d = document.querySelector(s).data;"
        " return d && d.some(t => t.meta && t.meta.role === 'front'); }", arg=selector)
    return plot_data(page, selector)


def test_list_shows_campaigns_and_statuses(page, server, campaigns):
    page.goto(f"{server.url}/")
    assert page.url.endswith("/ui/")
    with server.client() as http:
        listed = http.get("/campaigns").json()
    page.wait_for_function(
        "n => document.querySelectorAll('#campaigns tr').length === n", arg=listed["total"])
    for campaign in campaigns.values():
        row = page.locator(f"#campaigns tr[data-campaign-id='{campaign['id']}']")
        assert row.locator("td[data-label='name']").inner_text() == campaign["name"]
        assert row.locator("td[data-label='algorithm']").inner_text() == campaign["algorithm"]
        problem = row.locator("td[data-label='problem']").inner_text()
        assert problem.split()[0] == campaign["problem"]["id"]
    statuses = {c["name"]: c["status"] for c in campaigns.values()}
    assert statuses["cancelled-in-queue"] == "cancelled"
    for name, status in statuses.items():
        if name == SLOW["name"]:
            continue
        badge = page.locator(f"#campaigns tr[data-campaign-id='{campaigns[name]['id']}'] .status")
        assert badge.inner_text() == status
    finished = page.locator(f"tr[data-campaign-id='{campaigns['branin-currin-sobol-0']['id']}']")
    assert finished.locator("td[data-label='front size']").inner_text() == str(
        campaigns["branin-currin-sobol-0"]["front_size"])
    assert finished.locator("progress").get_attribute("value") == "1"

    # live: the running campaign's progress moves without a reload
    slow = page.locator(f"#campaigns tr[data-campaign-id='{campaigns[SLOW['name']]['id']}']")
    assert slow.locator(".status").inner_text() == "running"
    before = float(slow.locator("progress").get_attribute("value"))
    page.wait_for_function(
        "([id, before]) => Number(document.querySelector("
        "`#campaigns tr[data-campaign-id='${id}'] progress`).value) > before",
        arg=[campaigns[SLOW["name"]]["id"], before], timeout=15_000)

    page.select_option("#filter-status", "succeeded")
    page.wait_for_function("() => [...document.querySelectorAll('#campaigns tr')]"
                           ".every(tr => tr.dataset.status === 'succeeded')")
    assert page.locator("#campaigns tr").count() == len(SPECS)
    page.select_option("#filter-status", "")
    page.wait_for_function(
        "n => document.querySelectorAll('#campaigns tr').length === n", arg=listed["total"])
    screenshot(page, "list")

    page.set_viewport_size(PHONE)  # usable at phone width: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_campaign_plot_has_exactly_the_front_points(page, server, campaigns):
    campaign = campaigns["branin-currin-sobol-0"]
    with server.client() as http:
        front = http.get(f"/campaigns/{campaign['id']}/front").json()
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    traces = wait_for_front(page)
    assert count(traces, "front") == len(front["points"]) == campaign["front_size"]
    front_trace = next(t for t in traces if t["meta"]["role"] == "front")
    assert front_trace["type"] == "scatter"
    assert sorted(front_trace["ids"]) == sorted(p["evaluation_id"] for p in front["points"])
    assert count(traces, "reference") == 1
    titles = page.evaluate("() => { const l = document.querySelector('#front-plot').layout;"
                           " return [l.xaxis.title.text, l.yaxis.title.text]; }")
    assert titles == ["branin (minimize)", "currin (minimize)"]
    assert page.locator("#front-table tbody tr").count() == len(front["points"])
    history = page.evaluate("document.querySelector('#history-plot').data[0].y.length")
    assert history == len([p for p in http_get(server, f"/campaigns/{campaign['id']}/history")
                           ["points"] if p["hypervolume"] is not None])


def http_get(server: Server, path: str) -> dict:
    return httpx.get(f"{server.url}/api/v1{path}", timeout=30).json()


def test_toggling_dominated_points_shows_every_evaluation(page, server, campaigns):
    campaign = campaigns["branin-currin-sobol-0"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    wait_for_front(page)
    page.get_by_label("Show dominated evaluations").check()
    page.wait_for_function("() => document.querySelector('#front-plot').data"
                           ".some(t => t.meta && t.meta.role === 'dominated')")
    traces = plot_data(page, "#front-plot")
    assert count(traces, "front", "dominated", "infeasible") == campaign["n_evaluations"] == 80
    assert count(traces, "front") == campaign["front_size"]
    page.get_by_label("Show dominated evaluations").uncheck()
    page.wait_for_function("() => !document.querySelector('#front-plot').data"
                           ".some(t => t.meta && t.meta.role === 'dominated')")
    assert count(plot_data(page, "#front-plot"), "front", "dominated") == campaign["front_size"]


def click_point(page, role: str, index: int) -> int:  # type: ignore[no-untyped-def]
    """Click the index-th point of the trace with this role; return its evaluation id."""
    target = page.evaluate(
        """([role, index]) => {
             const gd = document.querySelector('#front-plot');
             const k = gd.data.findIndex(t => t.meta && t.meta.role === role);
             const layer = gd.querySelectorAll('.scatterlayer .trace')[k];
             const box = layer.querySelectorAll('.points path.point')[index].getBoundingClientRect();
             return {x: box.x + box.width / 2, y: box.y + box.height / 2,
                     id: gd.data[k].customdata[index]};
           }""", [role, index])
    page.mouse.move(target["x"], target["y"])
    page.mouse.click(target["x"], target["y"])
    return int(target["id"])


def test_clicking_a_point_shows_its_parameters(page, server, campaigns):
    campaign = campaigns["branin-currin-sobol-0"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    traces = wait_for_front(page)
    middle = next(t["n"] for t in traces if t["meta"]["role"] == "front") // 2
    evaluation_id = click_point(page, "front", middle)
    detail = page.locator(f"#evaluation-detail[data-evaluation-id='{evaluation_id}']")
    detail.wait_for()
    evaluation = http_get(server, f"/evaluations/{evaluation_id}")
    assert f"Evaluation #{evaluation_id}" in detail.inner_text()
    shown = {row.locator("th").inner_text(): float(row.locator("td").inner_text())
             for row in detail.locator("#evaluation-params tbody tr").all()}
    assert set(shown) == {"x0", "x1"} == set(evaluation["params"])
    for name, value in evaluation["params"].items():
        assert shown[name] == pytest.approx(value, rel=1e-6)
    assert "currin (minimize)" in detail.inner_text()
    row = page.locator(f"#front-table tr[data-evaluation-id='{evaluation_id}']")
    assert "selected" in (row.get_attribute("class") or "")

    page.get_by_label("Show dominated evaluations").check()
    page.wait_for_function("() => document.querySelector('#front-plot').data"
                           ".some(t => t.meta && t.meta.role === 'dominated')")
    page.mouse.move(0, 0)  # no hover label in the picture
    page.wait_for_timeout(300)  # let Plotly finish drawing before the picture
    screenshot(page, "campaign-2d")


def test_three_objective_campaign_and_the_objective_choice(page, server, campaigns):
    campaign = campaigns["dtlz2-3-objectives"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    traces = wait_for_front(page)
    assert count(traces, "front") == len(http_get(server, f"/campaigns/{campaign['id']}/front")
                                         ["points"])
    assert {t["type"] for t in traces} == {"scatter3d"}
    page.wait_for_selector("#front-plot .gl-container canvas")
    page.wait_for_timeout(500)
    screenshot(page, "campaign-3d")

    page.get_by_label("f3 (minimize)").uncheck()  # two objectives shown: a 2-D front
    page.wait_for_function("() => document.querySelector('#front-plot').data"
                           ".some(t => t.meta && t.meta.role === 'front' && t.type === 'scatter')")
    projected = http_get(server, f"/campaigns/{campaign['id']}/front?objectives=f1,f2")
    assert count(plot_data(page, "#front-plot"), "front") == len(projected["points"])


def test_a_preference_scored_by_chebyshev_picks_what_the_api_picks(page, server, campaigns):
    campaign = campaigns["dtlz2-3-objectives"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    wait_for_front(page)
    page.fill("#preference-input", "1,1,1")
    page.get_by_label("Scored by").select_option("chebyshev")
    page.get_by_role("button", name="Pick").click()
    best = http_get(server, f"/campaigns/{campaign['id']}/best"
                            "?preference=1,1,1&scalarisation=chebyshev")
    picked = best["evaluation"]["id"]
    page.locator(f"#evaluation-detail[data-evaluation-id='{picked}']").wait_for()
    assert f"picks evaluation #{picked} (weighted Chebyshev distance to the ideal " \
        f"{-best['utility']:.4g}, normalised)" in page.locator("#preference-result").inner_text()
    linear = http_get(server, f"/campaigns/{campaign['id']}/best?preference=1,1,1")
    # DTLZ2's front bulges to the nadir: the weighted sum picks a point nearer a corner
    assert max(best["evaluation"]["objectives"]) < max(linear["evaluation"]["objectives"])


def test_compare_page_shows_one_trace_per_campaign(page, server, campaigns):
    ids = [campaigns[name]["id"] for name in COMPARED]
    page.goto(f"{server.url}/ui/compare.html")
    option = page.locator("#compare-problem option", has_text="branin-currin").get_attribute("value")
    page.select_option("#compare-problem", option)
    for campaign_id in ids:
        page.locator(f"#compare-campaigns input[value='{campaign_id}']").check()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_function("() => (document.querySelector('#compare-front-plot').data || [])"
                           ".length > 0 && document.querySelector('#compare-hv-plot').data")
    fronts = plot_data(page, "#compare-front-plot")
    assert len(fronts) == 3
    assert [t["meta"]["campaign_id"] for t in fronts] == ids
    for trace, campaign_id in zip(fronts, ids):
        assert trace["n"] == len(http_get(server, f"/campaigns/{campaign_id}/front")["points"])
    curves = plot_data(page, "#compare-hv-plot")
    assert [t["meta"]["campaign_id"] for t in curves] == ids

    comparison = http_get(server, f"/compare?campaigns={','.join(map(str, ids))}&history=true")
    assert comparison["reference_point"] == [18.0, 6.0]
    assert page.locator("#common-reference").inner_text() == "(18, 6) (published)"
    rows = page.locator("#compare-table tbody tr")
    assert rows.count() == 3
    for entry in comparison["campaigns"]:
        row = page.locator(f"#compare-table tr[data-campaign-id='{entry['campaign_id']}']")
        hv = float(row.locator("td[data-label='final hypervolume']").inner_text())
        assert hv == pytest.approx(entry["hypervolume"], rel=1e-5)
        assert row.locator("td[data-label='front size']").inner_text() == str(entry["front_size"])
        counted = row.locator("td[data-label='front points counted']").inner_text()
        assert counted == str(entry["front_points_counted"])
        assert entry["history"][-1]["hypervolume"] == pytest.approx(entry["hypervolume"])
    assert re.search(r"campaigns=\d+,\d+,\d+", page.url)
    page.mouse.move(0, 0)  # no hover labels or Plotly toolbar in the picture
    page.wait_for_timeout(300)
    screenshot(page, "compare")


def fill_form(page, *, algorithm: str, problem: str, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.locator(".field[data-loc='algorithm'] select").select_option(algorithm)
    page.locator(".field[data-loc='problem.id'] select").select_option(problem)
    for loc, value in values.items():
        page.locator(f".field[data-loc='{loc}'] input").fill(value)


def test_a_bad_form_value_shows_the_api_message(page, server, console_errors, campaigns):
    # the browser logs the refused POST as a console error: that one, and only it, is expected
    console_errors.expect("the server responded with a status of 422")
    page.goto(f"{server.url}/ui/submit.html")
    fill_form(page, algorithm="sobol", problem="test-function:zdt1",
              values={"params.batch_size": "0", "problem.dim": "1"})
    page.get_by_role("button", name="Submit campaign").click()
    batch_error = page.locator(".field[data-loc='params.batch_size'] .field-error")
    batch_error.wait_for()
    refused = httpx.post(f"{server.url}/api/v1/campaigns", json={
        "algorithm": "sobol", "problem": {**ZDT1, "dim": 1},
        "budget": {"evaluations": 100}, "params": {"batch_size": 0}})
    assert refused.status_code == 422
    messages = {tuple(e["loc"]): e["msg"] for e in refused.json()["detail"]}
    assert batch_error.inner_text() == messages[("body", "params", "batch_size")]
    dim_error = page.locator(".field[data-loc='problem.dim'] .field-error")
    assert dim_error.inner_text() == messages[("body", "problem", "dim")]
    assert page.locator(".field[data-loc='params.batch_size'] input").get_attribute(
        "aria-invalid") == "true"
    assert page.url.endswith("/ui/submit.html")


def test_a_good_submission_creates_a_campaign_in_the_list(page, server, campaigns):
    page.goto(f"{server.url}/ui/submit.html")
    fill_form(page, algorithm="sobol", problem="test-function:zdt1",
              values={"name": "submitted-from-the-form", "budget": "20", "seed": "7",
                      "params.batch_size": "5"})
    page.get_by_role("button", name="Submit campaign").click()
    page.wait_for_url(re.compile(r"/ui/campaign\.html\?id=\d+$"))
    campaign_id = int(page.url.rsplit("=", 1)[1])
    created = http_get(server, f"/campaigns/{campaign_id}")
    assert created["name"] == "submitted-from-the-form"
    assert created["budget"]["amount"] == 20 and created["seed"] == 7
    assert created["params"]["batch_size"] == 5 and created["problem"]["dim"] == 4
    page.locator("#campaign-title", has_text="submitted-from-the-form").wait_for()

    page.get_by_role("link", name="Campaigns").click()
    row = page.locator(f"#campaigns tr[data-campaign-id='{campaign_id}']")
    row.wait_for()
    assert row.locator("td[data-label='name']").inner_text() == "submitted-from-the-form"


def test_front_quality_without_a_known_front_and_without_a_front(page, server, campaigns):
    campaign = campaigns["branin-currin-sobol-0"]
    metrics = http_get(server, f"/campaigns/{campaign['id']}/metrics")
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    page.wait_for_selector("#front-quality tbody tr")
    rows = page.locator("#front-quality tbody tr")
    assert [row.get_attribute("data-measure") for row in rows.all()] == [
        "hypervolume", "cardinality", "sparsity", "expected utility"]
    cardinality = page.locator("#front-quality tr[data-measure='cardinality'] td").first
    assert cardinality.inner_text() == str(metrics["cardinality"])
    assert metrics["cardinality"] == metrics["front_size"]
    assert page.locator("#front-size dd").inner_text() == str(metrics["front_size"])
    assert "minimised objectives are negated" in page.locator("#quality-note").inner_text()
    page.set_viewport_size(PHONE)  # the table fits a phone: no sideways scrolling
    # (once the plots have followed the resize, which Plotly does a moment later)
    page.wait_for_function("document.documentElement.scrollWidth <= window.innerWidth")

    empty = campaigns["cancelled-in-queue"]
    page.goto(f"{server.url}/ui/campaign.html?id={empty['id']}")
    page.wait_for_function("() => document.querySelector('#quality-note').textContent !== ''")
    assert page.locator("#quality-note").inner_text() == (
        "No feasible evaluation yet: there is no front to measure.")
    assert page.locator("#front-quality tr").count() == 0


def test_front_table_sorts_by_hv_contribution(page, server, campaigns):
    campaign = campaigns["branin-currin-nsga2"]
    answer = http_get(server, f"/campaigns/{campaign['id']}/front?contributions=true")
    shares = {p["evaluation_id"]: p["hv_contribution"] for p in answer["points"]}
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    wait_for_front(page)
    page.locator("#front-table th[data-key='hvc'] button").click()
    page.locator("#front-table th[data-key='hvc'] button").click()  # descending
    assert page.locator("#front-table th[data-key='hvc']").get_attribute(
        "aria-sort") == "descending"
    rows = page.locator("#front-table tbody tr").all()
    shown = [int(row.get_attribute("data-evaluation-id")) for row in rows]
    assert sorted(shown) == sorted(shares)
    assert [shares[i] for i in shown] == sorted(shares.values(), reverse=True)
    assert shares[shown[0]] > 0
    for row in rows:
        cell = row.locator("td[data-label='HV contribution']").inner_text()
        expected = shares[int(row.get_attribute("data-evaluation-id"))]
        assert float(cell) == pytest.approx(expected, rel=1e-5, abs=1e-12)
    assert "HV contribution: the hypervolume lost without the point's objective vector, " \
        "under (18, 6)" in page.locator("#table-note").inner_text()


def test_hv_contributions_declined_in_six_objectives_say_why(page, server, campaigns):
    with server.client() as http:
        created = http.post("/campaigns", json={
            "algorithm": "sobol", "budget": {"evaluations": 200}, "params": {"batch_size": 100},
            "problem": {"kind": "test-function", "id": "dtlz2", "num_objectives": 6, "dim": 8},
            "seed": 0}).json()
        wait_for(lambda: http.get(f"/campaigns/{created['id']}").json()["status"] == "succeeded",
                 timeout=120, what="the six-objective campaign to succeed")
        answer = http.get(f"/campaigns/{created['id']}/front",
                          params={"contributions": "true"}).json()
    assert answer["contributions_note"].startswith("not computed")
    page.goto(f"{server.url}/ui/campaign.html?id={created['id']}")
    page.wait_for_selector("#front-table tbody tr")
    assert page.locator("#front-table th[data-key='hvc']").count() == 0
    assert f"HV contributions: {answer['contributions_note']}." in page.locator(
        "#table-note").inner_text()


def test_compare_page_draws_each_algorithms_attainment_surfaces(page, server, campaigns):
    ids = sorted(campaigns[name]["id"] for name in COMPARED)  # two sobol seeds, one nsga2
    sobol = sorted(campaigns[name]["id"] for name in COMPARED if "sobol" in name)
    expected = http_get(server, f"/attainment?campaigns={','.join(map(str, sobol))}")
    page.goto(f"{server.url}/ui/compare.html?campaigns={','.join(map(str, ids))}")
    page.wait_for_function("() => (document.querySelector('#attainment-plot').data || [])"
                           ".some(t => t.meta && t.meta.role === 'attainment')")
    drawn = page.evaluate(
        "() => document.querySelector('#attainment-plot').data.map(t => ({meta: t.meta,"
        " x: t.x, y: t.y, dash: t.line.dash}))")
    # nsga2 has one campaign here: it has no spread to show
    assert [t["meta"]["group"] for t in drawn] == ["sobol", "sobol"]
    assert [t["meta"]["percentile"] for t in drawn] == [50.0, 100.0]
    assert [t["dash"] for t in drawn] == ["dot", "dash"]  # the best run; both runs
    for trace, surface in zip(drawn, expected["surfaces"]):
        assert sorted(zip(trace["x"], trace["y"])) == sorted(map(tuple, surface["points"]))
    assert "what every run reached" in page.locator("#attainment-note").inner_text()


def test_parameter_importance_is_computed_on_demand_and_drawn_per_outcome(page, server,
                                                                         campaigns):
    campaign = campaigns["branin-currin-sobol-0"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    wait_for_front(page)
    assert page.locator("#importance-plot").is_hidden()  # nothing is fitted until asked
    page.get_by_role("button", name="Compute importance").click()
    page.locator("#importance-table tbody tr").first.wait_for()
    expected = http_get(server, f"/campaigns/{campaign['id']}/importance")
    rows = page.locator("#importance-table tbody tr")
    assert rows.locator("th").all_inner_texts() == ["x0", "x1"]
    branin, currin = expected["outcomes"]
    assert rows.first.locator("td").all_inner_texts() == [
        f"{o['total'][0]:.3f} ({o['first_order'][0]:.3f})" for o in (branin, currin)]
    assert f"From {expected['n_evaluations']} evaluations." in \
        page.locator("#importance-note").inner_text()
    assert page.locator("#importance-table tfoot td").all_inner_texts() == [
        f"{o['fit_r2']:.3f}" for o in (branin, currin)]

    def bars() -> dict:
        return page.evaluate("() => Object.fromEntries(document.querySelector("
                             "'#importance-plot').data.map(t => [t.meta.role, [t.y, t.x]]))")

    def by_parameter(outcome: dict, key: str) -> dict:
        return dict(zip(expected["parameters"], outcome[key], strict=True))

    drawn = bars()
    assert {role: dict(zip(*bar, strict=True)) for role, bar in drawn.items()} == {
        "total": pytest.approx(by_parameter(branin, "total")),
        "first_order": pytest.approx(by_parameter(branin, "first_order"))}
    assert drawn["total"][0][-1] == max(by_parameter(branin, "total"),
                                        key=by_parameter(branin, "total").get)  # on top
    page.get_by_label("Outcome shown").select_option(label="currin (objective)")
    page.wait_for_function("() => document.querySelector('#importance-plot').layout"
                           ".xaxis.title.text.includes('currin')")
    assert dict(zip(*bars()["total"], strict=True)) == pytest.approx(
        by_parameter(currin, "total"))

    # the README's picture: the evaluations and the model along x0, then the importance
    page.get_by_role("button", name="Plot the evaluations").click()
    page.get_by_label("Draw the model through an evaluation").check()
    page.wait_for_function("() => (document.querySelector('#slice-plot').data || [])"
                           ".some(t => t.meta.role === 'model-mean')")
    page.locator("#slice-heading").scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('#slice-heading').scrollIntoView()")
    screenshot(page, "parameters")

    page.get_by_role("button", name="Draw the model").click()  # over x0 and x1
    page.wait_for_function("() => (document.querySelector('#contour-plot').data || [])"
                           ".some(t => t.meta.role === 'model')")
    contour = http_get(server, f"/campaigns/{campaign['id']}/model-contour?x=x0&y=x1")
    drawn = page.evaluate("() => Object.fromEntries(document.querySelector('#contour-plot')"
                          ".data.map(t => [t.meta.role, {x: t.x, y: t.y, z: t.z || null}]))")
    assert drawn["model"]["x"] == pytest.approx(contour["x_values"])
    assert drawn["model"]["z"][3] == pytest.approx(contour["outcomes"][0]["mean"][3])
    assert len(drawn["evaluations"]["x"]) == campaign["n_evaluations"]
    assert drawn["held"]["x"] == [contour["at_params"]["x0"]]
    assert page.locator("#contour-note").inner_text().startswith(
        f"Through evaluation {contour['at_evaluation_id']}")


def test_importance_under_parameter_constraints_adds_the_shapley_effects_inside_them(
        page, server):
    problem = {"kind": "external", "objectives": [{"name": "f"}, {"name": "g"}],
               "parameters": [{"name": "x", "low": 0, "high": 1},
                              {"name": "y", "low": 0, "high": 1}],
               "parameter_constraints": ["x + y <= 1"]}
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": problem,
                                            "budget": {"evaluations": 12}}).json()["id"]
        asked = http.post(f"/campaigns/{cid}/ask", params={"n": 12}).json()["suggestions"]
        results = [{"suggestion_id": s["id"], "objectives": [
            s["params"]["x"], s["params"]["x"] + 2 * s["params"]["y"]]} for s in asked]
        assert http.post(f"/campaigns/{cid}/tell", json={"results": results}).status_code == 200
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    wait_for_front(page)
    page.get_by_role("button", name="Compute importance").click()
    page.locator("#importance-table tbody tr").first.wait_for()
    expected = http_get(server, f"/campaigns/{cid}/importance")
    f, g = expected["outcomes"]
    assert f["shapley"][1] == pytest.approx(1 / 8, abs=0.05)  # the triangle's exact 1/8
    assert page.locator("#importance-table thead th").all_inner_texts() == [
        "parameter", "f: total (first order); Shapley", "g: total (first order); Shapley"]
    assert page.locator("#importance-table tbody tr").first.locator("td").all_inner_texts() == [
        f"{o['total'][0]:.3f} ({o['first_order'][0]:.3f}); {o['shapley'][0]:.3f}" for o in (f, g)]
    assert "the Shapley effects, inside the parameter constraints" in \
        page.locator("#importance-note").inner_text()
    drawn = page.evaluate("() => Object.fromEntries(document.querySelector("
                          "'#importance-plot').data.map(t => [t.meta.role, [t.y, t.x]]))")
    assert list(drawn) == ["shapley", "total", "first_order"]
    assert dict(zip(*drawn["shapley"], strict=True)) == pytest.approx(
        dict(zip(expected["parameters"], f["shapley"], strict=True)))
    assert drawn["shapley"][0][-1] == "x"  # ranked by the Shapley effects: x on top


def test_the_model_fit_plots_each_leave_one_out_prediction_against_its_measurement(
        page, server, campaigns):
    campaign = campaigns["branin-currin-sobol-1"]
    page.goto(f"{server.url}/ui/campaign.html?id={campaign['id']}")
    wait_for_front(page)
    page.get_by_role("button", name="Check the model").click()
    page.locator("#fit-table tbody tr").first.wait_for()
    expected = http_get(server, f"/campaigns/{campaign['id']}/model-fit")
    rows = page.locator("#fit-table tbody tr")
    assert rows.locator("th").all_inner_texts() == ["branin", "currin"]
    branin = expected["outcomes"][0]
    assert rows.first.locator("td").all_inner_texts() == [
        f"{branin['r2']:.3f}", f"{branin['rank_correlation']:.3f}",
        f"{100 * branin['coverage']:.0f}%"]
    drawn = page.evaluate("() => Object.fromEntries(document.querySelector('#fit-plot').data"
                          ".map(t => [t.meta.role, {x: t.x, y: t.y, ids: t.customdata || null,"
                          " bars: t.error_y ? t.error_y.array : null}]))")
    points = drawn["evaluations"]
    assert points["ids"] == [p["evaluation_id"] for p in branin["points"]]
    assert points["x"] == [p["observed"] for p in branin["points"]]
    assert points["y"] == [p["predicted"] for p in branin["points"]]
    assert points["bars"] == pytest.approx([1.96 * p["sd"] for p in branin["points"]], rel=1e-3)
    assert drawn["diagonal"]["x"] == drawn["diagonal"]["y"]


def test_the_slice_plot_puts_every_evaluation_at_its_parameter_value(page, server):
    problem = {"kind": "external", "objectives": [{"name": "loss", "sense": "minimize"},
                                                  {"name": "seconds", "sense": "minimize"}],
               "parameters": [{"name": "lr", "low": 1e-5, "high": 1e-1, "log_scale": True},
                              {"name": "width", "low": 16, "high": 256, "value_type": "int"}],
               "constraints": ["memory <= 3"]}
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": problem,
                                            "budget": {"evaluations": 8}}).json()["id"]
        asked = http.post(f"/campaigns/{cid}/ask", params={"n": 8}).json()["suggestions"]
        results = [{"suggestion_id": s["id"], "objectives": [
            (math.log10(s["params"]["lr"]) + 3) ** 2, s["params"]["width"] / 10],
            "constraints": {"memory": s["params"]["width"] / 64}} for s in asked]
        assert http.post(f"/campaigns/{cid}/tell", json={"results": results}).status_code == 200
    evaluations = http_get(server, f"/campaigns/{cid}/evaluations")["items"]
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    wait_for_front(page)
    assert page.locator("#slice-plot").is_hidden()
    page.get_by_role("button", name="Plot the evaluations").click()
    page.wait_for_function("() => (document.querySelector('#slice-plot').data || []).length > 0")

    def drawn() -> tuple[dict, str]:
        return page.evaluate(
            "() => { const gd = document.querySelector('#slice-plot');"
            " return [Object.fromEntries(gd.data.filter(t => t.customdata)"
            ".map(t => [t.meta.role, t.customdata.map("
            "(id, k) => [id, t.x[k], t.y[k]])])), gd.layout.xaxis.type || 'linear']; }")

    traces, axis_type = drawn()
    assert axis_type == "log"  # lr is searched, and shown, on a log scale
    by_id = {e["id"]: e for e in evaluations}
    shown = [point for points in traces.values() for point in points]
    assert sorted(point[0] for point in shown) == sorted(by_id)  # every evaluation, once
    assert all(x == by_id[i]["params"]["lr"] and y == by_id[i]["objectives"][0]
               for i, x, y in shown)
    front = {e["id"] for e in evaluations if e["on_front"]}
    assert {point[0] for point in traces.get("front", [])} == front
    assert {point[0] for point in traces.get("infeasible", [])} == {
        e["id"] for e in evaluations if not e["feasible"]}
    assert "8 evaluations; lr on a log scale." == page.locator("#slice-note").inner_text()

    page.get_by_label("Draw the model through an evaluation").check()  # the GP along lr
    page.wait_for_function("() => document.querySelector('#slice-plot').data"
                           ".some(t => t.meta.role === 'model-mean')")
    model = http_get(server, f"/campaigns/{cid}/model-slice?parameter=lr")
    curve = page.evaluate("() => document.querySelector('#slice-plot').data"
                          ".find(t => t.meta.role === 'model-mean')")
    assert curve["x"] == pytest.approx(model["values"])
    assert curve["y"] == pytest.approx(model["outcomes"][0]["mean"])
    note = page.locator("#slice-note").inner_text()
    assert f"through evaluation {model['at_evaluation_id']}, the other parameters held at " \
        f"its values (width = {model['at_params']['width']})" in note

    page.locator("#slice-parameter").select_option("width")
    page.locator("#slice-outcome").select_option(label="memory (constraint)")
    page.wait_for_function("() => { const l = document.querySelector('#slice-plot').layout;"
                           " return l.xaxis.title.text === 'width'"
                           " && l.yaxis.title.text === 'memory (constraint)'; }")
    traces, axis_type = drawn()
    assert axis_type == "linear"
    assert all(y == pytest.approx(by_id[i]["params"]["width"] / 64)  # the value told
               for points in traces.values() for i, _, y in points)


def test_an_external_campaigns_choice_and_int_parameters_read_as_declared(page, server):
    problem = {"kind": "external", "objectives": [{"name": "accuracy"},
                                                  {"name": "cost", "sense": "minimize"}],
               "parameters": [{"name": "layers", "low": 1, "high": 4, "value_type": "int"},
                              {"name": "optimizer", "value_type": "choice",
                               "values": ["sgd", "adam"]}],
               "parameter_constraints": ["layers <= 3"],
               "constraints": [{"name": "memory_left"}, "memory <= 2.5", "memory + 2*swap <= 5"]}
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": problem,
                                            "budget": {"evaluations": 6}}).json()["id"]
        asked = http.post(f"/campaigns/{cid}/ask", params={"n": 6}).json()["suggestions"]
        results = [{"suggestion_id": s["id"], "objectives": [
            s["params"]["layers"] + (s["params"]["optimizer"] == "adam"), s["params"]["layers"]],
            "constraints": {"memory_left": 3.5 - s["params"]["layers"],
                            "memory": s["params"]["layers"], "swap": 0.25}} for s in asked]
        assert http.post(f"/campaigns/{cid}/tell", json={"results": results}).status_code == 200
    assert {s["params"]["layers"] for s in asked} <= {1, 2, 3}
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    wait_for_front(page)
    facts = page.locator("#facts").inner_text()
    assert "parameter_constraints=[layers <= 3]" in facts
    assert "constraints=[memory_left, memory <= 2.5, memory + 2*swap <= 5]" in facts
    header = page.locator("#front-table th[data-key='p:optimizer']")
    assert header.get_attribute("class") != "num"  # text, not a number column
    assert page.locator("#front-table th[data-key='p:layers']").get_attribute("class") == "num"
    first = page.locator("#front-table tbody tr").first
    evaluation_id = int(first.get_attribute("data-evaluation-id"))
    evaluation = http_get(server, f"/evaluations/{evaluation_id}")
    assert first.locator("td[data-label='optimizer']").inner_text() == \
        evaluation["params"]["optimizer"]
    first.get_by_role("button", name=f"show evaluation {evaluation_id}").click()
    detail = page.locator(f"#evaluation-detail[data-evaluation-id='{evaluation_id}']")
    detail.wait_for()
    shown = {row.locator("th").inner_text(): row.locator("td").inner_text()
             for row in detail.locator("#evaluation-params tbody tr").all()}
    assert shown == {"layers": str(evaluation["params"]["layers"]),
                     "optimizer": evaluation["params"]["optimizer"]}  # no JSON quotes
    constraints = detail.locator("#evaluation-constraints tbody tr")
    assert constraints.locator("th").all_inner_texts() == [
        "memory_left", "memory", "memory + 2*swap"]  # not c0
    layers = evaluation["params"]["layers"]  # on the front, so within memory <= 2.5
    assert constraints.locator("td").all_inner_texts() == [
        f"{3.5 - layers:g} (≥ 0, slack {3.5 - layers:g})",
        f"{layers} (≤ 2.5, slack {2.5 - layers:g})",  # the value told, then its slack
        f"{layers + 0.5:g} (≤ 5, slack {4.5 - layers:g}; memory {layers}; swap 0.25)"]


def test_an_ask_tell_campaign_lists_its_suggestions_and_why_one_failed(page, server, campaigns):
    problem = {"kind": "external", "objectives": [{"name": "yield"}, {"name": "cost"}],
               "parameters": [{"name": "temp", "low": 20, "high": 90},
                              {"name": "catalyst", "value_type": "choice",
                               "values": ["Pd", "Pt"]}]}
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": problem,
                                            "budget": {"evaluations": 8}}).json()["id"]
        asked = http.post(f"/campaigns/{cid}/ask", params={"n": 5}).json()["suggestions"]
        told = http.post(f"/campaigns/{cid}/tell", json={"results": [
            {"suggestion_id": s["id"], "objectives": [s["params"]["temp"], 1.0],
             "sem": [0.25, None]}  # yield measured with a standard error of 0.25
            for s in asked[:2]]}).json()
        assert http.post(f"/campaigns/{cid}/fail", json={"failures": [
            {"suggestion_id": asked[2]["id"], "reason": "the reactor tripped"}]}).status_code == 200
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    wait_for_front(page)  # the told standard errors are drawn as error bars on the front
    bars = page.evaluate("""() => { const t = document.querySelector('#front-plot').data
        .find(t => t.meta && t.meta.role === 'front');
        return [t.error_x && t.error_x.array, t.error_y && t.error_y.array]; }""")
    assert bars == [[0.25], [None]], bars
    assert "Bars: ± one standard error" in page.locator("#front-note").inner_text()
    with page.expect_download() as started:  # the front's CSV has them too
        page.locator("#export-csv").click()
    header, row = Path(started.value.path()).read_text().splitlines()
    assert header.endswith(",sem.yield,sem.cost") and row.endswith(",0.25,"), (header, row)
    page.get_by_label("Front of the model's predictions").check()  # the denoised front
    page.wait_for_function("() => document.querySelector('#front-note').textContent"
                           ".includes(\"The front of the model's predictions\")")
    with server.client() as http:
        denoised = http.get(f"/campaigns/{cid}/front", params={"denoised": "true"}).json()
    drawn = page.evaluate("""() => { const t = document.querySelector('#front-plot').data
        .find(t => t.meta && t.meta.role === 'front'); return [t.x, t.y, t.customdata]; }""")
    assert drawn == [[p["predicted"][0] for p in denoised["points"]],
                     [p["predicted"][1] for p in denoised["points"]],
                     [p["evaluation_id"] for p in denoised["points"]]], drawn
    section = page.locator("#suggestions")
    section.locator("tbody tr").first.wait_for()
    assert section.locator("h2").inner_text() == "Suggestions (5)"
    assert section.locator(".plot-note").first.inner_text().startswith(
        "2 pending · 2 told · 1 failed · 0 expired.")
    timeline = page.evaluate("""() => document.querySelector('#suggestions-timeline').data
        .map(t => [t.meta.status, t.y, t.x.every(v => v >= 0)])""")
    assert timeline == [["told", [f"#{s['id']}" for s in asked[:2]], True],
                        ["failed", [f"#{asked[2]['id']}"], True],
                        ["pending", [f"#{s['id']}" for s in asked[3:]], True]], timeline
    with server.client() as http:
        listed = http.get(f"/campaigns/{cid}/suggestions").json()["items"]
    evaluations = {e["evaluation_id"] for e in told["evaluations"]}
    assert [s["told_at"] is not None for s in listed] == [True, True, False, False, False]
    assert {s["evaluation_id"] for s in listed[:2]} == evaluations
    rows = {int(row.get_attribute("data-suggestion-id")): row
            for row in section.locator("tbody tr").all()}
    assert list(rows) == [s["id"] for s in asked]
    failed = rows[asked[2]["id"]]
    assert failed.get_attribute("data-status") == "failed"
    assert failed.locator("td[data-label='outcome']").inner_text() == "the reactor tripped"
    assert failed.locator("td[data-label='catalyst']").inner_text() == asked[2]["params"]["catalyst"]
    assert rows[asked[4]["id"]].locator("td[data-label='outcome']").inner_text().startswith(
        "expires ")
    evaluation_id = told["evaluations"][1]["evaluation_id"]
    rows[asked[1]["id"]].get_by_role("button", name=f"show evaluation {evaluation_id}").click()
    page.locator(f"#evaluation-detail[data-evaluation-id='{evaluation_id}']").wait_for()
    objectives = page.locator("#evaluation-detail table").first.locator("tbody tr").all_inner_texts()
    assert objectives[0].endswith("± 0.25") and "±" not in objectives[1], objectives

    worker_campaign = campaigns["branin-currin-sobol-0"]["id"]
    page.goto(f"{server.url}/ui/campaign.html?id={worker_campaign}")  # no such section there
    wait_for_front(page)
    assert page.locator("#suggestions").is_hidden()
    assert page.locator("#denoised-control").is_hidden()


def test_a_noisy_test_function_shows_its_denoised_front_and_noise_free_values(page, server):
    with server.client() as http:
        cid = http.post("/campaigns", json={
            "algorithm": "sobol", "budget": {"evaluations": 12}, "params": {"batch_size": 6},
            "problem": {**BRANIN_CURRIN, "noise_std": [15.19, 0.63]}}).json()["id"]
        wait_for(lambda: http.get(f"/campaigns/{cid}").json()["status"] == "succeeded",
                 timeout=120, what="the noisy campaign to succeed")
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    wait_for_front(page)
    evaluation_id = click_point(page, "front", 0)
    page.locator(f"#evaluation-detail[data-evaluation-id='{evaluation_id}']").wait_for()
    evaluation = http_get(server, f"/evaluations/{evaluation_id}")
    objectives = page.locator("#evaluation-detail table").first.locator("tbody tr").all_inner_texts()
    truth = evaluation["meta"]["true_objectives"]
    assert "± 15.19 (noise-free " in objectives[0] and "± 0.63 (noise-free " in objectives[1]
    assert [float(text.rsplit("noise-free ", 1)[1].rstrip(")")) for text in objectives] == \
        pytest.approx(truth, rel=1e-6)
    page.get_by_label("Front of the model's predictions").check()  # offered: the values are noisy
    page.wait_for_function("() => document.querySelector('#front-note').textContent"
                           ".includes(\"The front of the model's predictions\")")
