"""The viewer's parallel coordinates of an ask/tell campaign, in a real headless Chromium
against a real ``mofront serve``: one line per evaluation through its parameters (a log
scale, an int, a category) and its outcomes (objectives, an outcome constraint's value
told), coloured by the front or by an outcome; ranges on the axes, dragged with the
mouse or set through Plotly, keep exactly the evaluations inside all of them, listed in
a table whose rows open the evaluation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server, wait_for
from tests.web.conftest import screenshot

pytestmark = pytest.mark.timeout(240)

OPTIMIZERS = ["sgd", "adam", "adamw"]
PROBLEM = {"kind": "external",
           "objectives": [{"name": "loss", "sense": "minimize"},
                          {"name": "seconds", "sense": "minimize"}],
           "parameters": [{"name": "lr", "low": 1e-5, "high": 1e-1, "log_scale": True},
                          {"name": "width", "low": 16, "high": 256, "value_type": "int"},
                          {"name": "optimizer", "value_type": "choice", "values": OPTIMIZERS}],
           "constraints": ["memory <= 3"]}
LABELS = ["lr (log scale)", "width", "optimizer", "loss (minimize)", "seconds (minimize)",
          "memory (constraint)"]


def tell(http: httpx.Client, cid: int, n: int) -> None:
    """Ask for n points and tell them: loss falls with lr towards 1e-3 and with adam;
    seconds and memory grow with width, so the widest are infeasible."""
    asked = http.post(f"/campaigns/{cid}/ask", params={"n": n}).json()["suggestions"]
    results = [{"suggestion_id": s["id"], "objectives": [
        (math.log10(s["params"]["lr"]) + 3) ** 2 + (s["params"]["optimizer"] != "adam"),
        s["params"]["width"] / 10], "constraints": {"memory": s["params"]["width"] / 64}}
        for s in asked]
    assert http.post(f"/campaigns/{cid}/tell", json={"results": results}).status_code == 200


@pytest.fixture(scope="module")
def evaluations(server: Server) -> tuple[int, list[dict]]:
    """A finished Sobol campaign of twelve points told."""
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": PROBLEM,
                                            "budget": {"evaluations": 12}}).json()["id"]
        tell(http, cid, 12)
        items = http.get(f"/campaigns/{cid}/evaluations").json()["items"]
    return cid, items


def drawn(page: Any) -> dict:
    return page.evaluate(
        "() => { const t = document.querySelector('#parallel-plot').data[0];"
        " return {labels: t.dimensions.map(d => d.label), values: t.dimensions.map(d => d.values),"
        " ranges: t.dimensions.map(d => d.constraintrange || null),"
        " ticktext: t.dimensions.map(d => d.ticktext || null), colour: t.line.color,"
        " colourbar: t.line.showscale ? t.line.colorbar.title.text : null}; }")


def listed(page: Any) -> list[int]:
    rows = page.locator("#parallel-table tbody tr")
    return [int(row.get_attribute("data-evaluation-id")) for row in rows.all()]


def restyle(page: Any, axis: int, span: list[float] | None) -> None:
    """What dragging a range on an axis does: Plotly restyles the axis's constraint range."""
    page.evaluate("([k, span]) => Plotly.restyle(document.querySelector('#parallel-plot'),"
                  " {[`dimensions[${k}].constraintrange`]: [span]}, [0])", [axis, span])


def open_plot(page: Any, server: Server, cid: int) -> dict:
    page.goto(f"{server.url}/ui/campaign.html?id={cid}")
    button = page.get_by_role("button", name="Plot parameters and outcomes")
    button.wait_for()
    assert page.locator("#parallel-plot").is_hidden()
    button.click()
    page.wait_for_function("() => (document.querySelector('#parallel-plot').data || []).length > 0")
    return drawn(page)


def test_each_evaluation_is_a_line_through_its_parameters_and_outcomes(page, server,
                                                                        evaluations):
    cid, items = evaluations
    figure = open_plot(page, server, cid)
    assert figure["labels"] == LABELS
    assert figure["ticktext"][2] == OPTIMIZERS  # a category: one tick per value
    lines = list(zip(*figure["values"], figure["colour"], strict=True))
    assert len(lines) == len(items)
    expected = {(round(math.log10(e["params"]["lr"]), 9), e["params"]["width"],
                 OPTIMIZERS.index(e["params"]["optimizer"]), *e["objectives"],
                 e["meta"]["constraint_values"][0],
                 0 if not e["feasible"] else 1 if e["on_front"] else 0.5) for e in items}
    assert {(round(lr, 9), *rest) for lr, *rest in lines} == expected
    assert {line[-1] for line in lines} == {0, 0.5, 1}  # infeasible, dominated and front lines
    assert page.locator("#parallel-table").is_hidden()
    assert page.locator("#parallel-note").inner_text() == \
        "12 evaluations; drag along an axis to keep those inside a range."

    page.locator("#parallel-colour").select_option(label="seconds (minimize)")
    page.wait_for_function("() => document.querySelector('#parallel-plot').data[0].line.showscale")
    figure = drawn(page)
    assert figure["colourbar"] == "seconds (minimize)"
    assert figure["colour"] == figure["values"][4]


def test_ranges_on_the_axes_keep_the_evaluations_inside_all_of_them(page, server,
                                                                     evaluations):
    cid, items = evaluations
    open_plot(page, server, cid)
    restyle(page, 4, [5.0, 20.0])  # seconds
    page.locator("#parallel-table").wait_for()
    in_seconds = {e["id"] for e in items if 5.0 <= e["objectives"][1] <= 20.0}
    assert 0 < len(in_seconds) < len(items)
    assert set(listed(page)) == in_seconds
    assert page.locator("#parallel-note").inner_text() == \
        f"{len(in_seconds)} of 12 evaluations inside seconds (minimize) 5 to 20."

    restyle(page, 2, [0.5, 1.5])  # the optimizer axis around "adam"
    kept = {e["id"] for e in items if e["id"] in in_seconds and e["params"]["optimizer"] == "adam"}
    page.wait_for_function("n => document.querySelectorAll('#parallel-table tbody tr').length === n",
                           arg=len(kept))
    assert set(listed(page)) == kept
    assert page.locator("#parallel-note").inner_text() == (
        f"{len(kept)} of 12 evaluations inside optimizer adam; seconds (minimize) 5 to 20.")

    with page.expect_download() as started:
        page.get_by_role("button", name="Export these (CSV)").click()
    header, *rows = Path(started.value.path()).read_text().splitlines()
    assert header == ("evaluation_id,seq,standing,param.lr,param.width,param.optimizer,loss,"
                      "seconds,constraint.memory")
    by_id = {e["id"]: e for e in items}
    assert [int(row.split(",")[0]) for row in rows] == sorted(kept, key=lambda i: by_id[i]["seq"])
    fields = rows[0].split(",")
    evaluation = by_id[int(fields[0])]
    assert fields[5] == evaluation["params"]["optimizer"] == "adam"
    assert float(fields[7]) == evaluation["objectives"][1]
    assert float(fields[8]) == evaluation["meta"]["constraint_values"][0]

    first = listed(page)[0]
    page.locator("#parallel-table").get_by_role("button", name=f"show evaluation {first}").click()
    page.locator(f"#evaluation-detail[data-evaluation-id='{first}']").wait_for()

    page.get_by_role("button", name="Clear the ranges").click()
    page.locator("#parallel-table").wait_for(state="hidden")
    assert page.get_by_role("button", name="Export these (CSV)").is_hidden()
    assert drawn(page)["ranges"] == [None] * len(LABELS)
    assert page.locator("#parallel-note").inner_text().startswith("12 evaluations; drag")


def test_a_range_dragged_with_the_mouse_keeps_the_evaluations_inside_it(page, server,
                                                                         evaluations):
    cid, items = evaluations
    open_plot(page, server, cid)
    page.locator("#parallel-plot").scroll_into_view_if_needed()
    box = page.locator("#parallel-plot .axis-brush").nth(1).bounding_box()  # width's axis
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    page.locator("#parallel-table").wait_for()
    low, high = min(drawn(page)["ranges"][1]), max(drawn(page)["ranges"][1])
    assert 16 <= low < high <= 256
    kept = {e["id"] for e in items if low <= e["params"]["width"] <= high}
    assert set(listed(page)) == kept
    assert page.locator("#parallel-note").inner_text() == \
        f"{len(kept)} of 12 evaluations inside width {math.ceil(low)} to {math.floor(high)}."
    page.locator("#parallel-heading").scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, document.querySelector('#parallel-heading')"
                  ".getBoundingClientRect().top - 10)")
    screenshot(page, "parallel")


def test_new_evaluations_join_the_plot_inside_the_ranges_kept(page, server):
    with server.client() as http:
        cid = http.post("/campaigns", json={"algorithm": "sobol", "problem": PROBLEM,
                                            "budget": {"evaluations": 16}}).json()["id"]
        tell(http, cid, 8)
        open_plot(page, server, cid)
        restyle(page, 3, [0.0, 2.0])  # loss
        page.locator("#parallel-table").wait_for()
        tell(http, cid, 8)  # the page polls the running campaign
        page.wait_for_function("() => document.querySelector('#parallel-plot').data[0]"
                               ".dimensions[0].values.length === 16")
        items = http.get(f"/campaigns/{cid}/evaluations").json()["items"]
    kept = {e["id"] for e in items if e["objectives"][0] <= 2.0}
    page.wait_for_function("n => document.querySelectorAll('#parallel-table tbody tr').length === n",
                           arg=len(kept))
    assert set(listed(page)) == kept
    assert drawn(page)["ranges"][3] == [0, 2]
    assert page.locator("#parallel-note").inner_text() == \
        f"{len(kept)} of 16 evaluations inside loss (minimize) 0 to 2."


def test_a_test_functions_parameters_are_read_from_its_evaluations(page, server):
    with server.client() as http:
        cid = http.post("/campaigns", json={
            "algorithm": "sobol", "problem": {"kind": "test-function", "id": "zdt1", "dim": 4},
            "budget": {"evaluations": 10}}).json()["id"]
        wait_for(lambda: http.get(f"/campaigns/{cid}").json()["status"] == "succeeded",
                 timeout=120, what="the ZDT1 campaign to succeed")
        items = http.get(f"/campaigns/{cid}/evaluations").json()["items"]
        objectives = http.get(f"/campaigns/{cid}").json()["objectives"]
    figure = open_plot(page, server, cid)
    assert figure["labels"] == ["x0", "x1", "x2", "x3",
                                *(f"{o['name']} ({o['sense']})" for o in objectives)]
    assert sorted(zip(*figure["values"][:4], strict=True)) == sorted(
        tuple(e["params"][f"x{k}"] for k in range(4)) for e in items)
