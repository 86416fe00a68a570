// One campaign: its facts, the Pareto front (2-D, 3-D or parallel coordinates on the
// objectives chosen), dominated evaluations on demand, the HV history, the front's
// quality measures (GET /metrics), the table of front points with their HV
// contributions, one evaluation's details, the evaluation a preference picks (and, for a
// PD-MORL campaign, the network to serve at it), an ask/tell campaign's suggestions,
// the parameters and the model (model.js), the parameters and outcomes in parallel
// coordinates (parallel.js), Cancel and CSV export. Live while it runs.

import { ApiError, api, evaluationsFrom } from "./api.js";
import { PARAMETRIC_KINDS, setUpModelSections } from "./model.js";
import { setUpParallel } from "./parallel.js";
import { draw, frontFigure, historyFigure } from "./plots.js";
import { renderSuggestions } from "./suggestions.js";
import { storedToken } from "./token.js";
import {
  ACTIVE, clearError, csvCell, dateTime, download, duration, el, markCurrentNav, number,
  objectiveLabel, paramText, poll, problemLabel, problemParams, progressBar, shortDateTime,
  showError, sortableTable, statusBadge, vector,
} from "./ui.js";

const REFRESH_SECONDS = 2;
// Tables of more rows than this show the first ones (sorted) and say so.
const TABLE_ROWS = 2000;

const pageError = document.getElementById("page-error");
const frontPlot = document.getElementById("front-plot");
const historyPlot = document.getElementById("history-plot");
const detail = document.getElementById("evaluation-detail");
const showDominated = document.getElementById("show-dominated");
const showDenoised = document.getElementById("show-denoised");
const picker = document.getElementById("objective-picker");
const exportButton = document.getElementById("export-csv");
const cancelButton = document.getElementById("cancel-campaign");
const preferenceForm = document.getElementById("preference-form");
const preferenceResult = document.getElementById("preference-result");
const suggestionsSection = document.getElementById("suggestions");

const state = {
  id: null,
  campaign: null,
  shown: [], // indices of the objectives shown
  front: null, // FrontOut for the objectives shown
  evaluations: [], // every evaluation, loaded when dominated points are asked for
  history: null,
  selectedId: null,
  clickBound: false,
  registry: null, // to leave default problem parameters out of the facts
  knownFront: null, // KnownFrontOut, when the problem has a known Pareto front
  metrics: null, // MetricsOut of the front last drawn
  modelSections: null, // the parameters and the model's sections (model.js)
  parallel: null, // the parallel coordinates section (parallel.js)
};

markCurrentNav("list");
let frontTable = sortableTable(document.getElementById("front-table"), []);
start();

async function start() {
  const raw = new URLSearchParams(location.search).get("id");
  if (!raw || !/^\d+$/.test(raw)) {
    showError(pageError, "No campaign given: open a campaign from the list (campaign.html?id=N).");
    return;
  }
  if (typeof Plotly === "undefined") {
    showError(pageError, "Plotly.js did not load (GET /ui/vendor/plotly.min.js): install the 'plotly' Python package on the server.");
  }
  state.id = Number(raw);
  document.getElementById("compare-link").href = `compare.html?campaigns=${state.id}`;
  try {
    state.campaign = await api.campaign(state.id);
  } catch (error) {
    showError(pageError, error);
    return;
  }
  state.registry = await api.registry().catch(() => null);
  if (state.campaign.known_front) state.knownFront = await api.knownFront(state.id).catch(() => null);
  state.shown = state.campaign.objectives.map((_, i) => i);
  buildPicker();
  renderFacts();
  showDominated.addEventListener("change", () => refreshPlots(false));
  // measurements that may be noisy: told by a client, or a test function's with noise_std
  // or constraint_noise_std
  const problem = state.campaign.problem;
  const deviations = [problem.noise_std ?? [], problem.constraint_noise_std ?? []].flat();
  document.getElementById("denoised-control").hidden =
    state.campaign.runs_on !== "client" && !deviations.some((v) => v > 0);
  showDenoised.addEventListener("change", () => refreshPlots(false));
  exportButton.addEventListener("click", exportCsv);
  cancelButton.addEventListener("click", cancel);
  preferenceForm.addEventListener("submit", pickByPreference);
  const campaignPage = {
    id: state.id, campaign: () => state.campaign, evaluations: state.evaluations, loadEvaluations,
    front: () => state.front, showEvaluation,
  };
  state.modelSections = setUpModelSections(campaignPage);
  state.parallel = setUpParallel(campaignPage, PARAMETRIC_KINDS.includes(state.campaign.problem.kind));
  await refreshPlots(true);
  await state.modelSections.refresh();
  await refreshSuggestions();
  let wasActive = ACTIVE.includes(state.campaign.status);
  if (wasActive) {
    poll(async () => {
      const before = state.campaign;
      try {
        state.campaign = await api.campaign(state.id);
        clearError(pageError);
      } catch (error) {
        showError(pageError, error);
        throw error;
      }
      renderFacts();
      const changed = before.n_evaluations !== state.campaign.n_evaluations ||
        before.status !== state.campaign.status;
      if (changed) await refreshPlots(false);
      if (changed) await state.modelSections.refresh();
      if (changed) await state.parallel.refresh();
      await refreshSuggestions();
      wasActive = ACTIVE.includes(state.campaign.status);
    }, REFRESH_SECONDS, () => wasActive);
  }
}

let loading = Promise.resolve();

/** Load the evaluations not loaded yet, one load at a time: the dominated points, the
 *  slice plot and the parallel coordinates share them. */
function loadEvaluations() {
  loading = loading.catch(() => {}).then(async () => {
    state.evaluations.push(...await evaluationsFrom(state.id, state.evaluations.length));
  });
  return loading;
}

async function refreshSuggestions() {
  if (state.campaign.runs_on !== "client") return;
  try {
    await renderSuggestions(state.id, suggestionsSection, showEvaluation);
  } catch (error) {
    showError(pageError, error instanceof ApiError ? error : String(error));
  }
}

function buildPicker() {
  const objectives = state.campaign.objectives;
  picker.hidden = objectives.length <= 2;
  objectives.forEach((objective, index) => {
    const box = el("input", { type: "checkbox", name: "objective", value: String(index), checked: true });
    box.addEventListener("change", () => {
      const chosen = [...picker.querySelectorAll("input:checked")].map((input) => Number(input.value));
      if (chosen.length < 2) {
        box.checked = true;
        document.getElementById("front-note").textContent = "Show at least two objectives.";
        return;
      }
      state.shown = chosen;
      refreshPlots(true);
    });
    picker.append(el("label", {}, box, objectiveLabel(objective)));
  });
}

function renderFacts() {
  const c = state.campaign;
  document.title = `${c.name || `campaign ${c.id}`} · mofront`;
  document.getElementById("campaign-title").replaceChildren(
    el("span", {}, c.name || `campaign ${c.id}`), el("span", { class: "muted small" }, `#${c.id}`), statusBadge(c.status));
  cancelButton.hidden = !ACTIVE.includes(c.status);
  const unit = c.budget.unit.replace("_", " ");
  const params = problemParams(c.problem, state.registry);
  const facts = [
    ["algorithm", el("span", { title: JSON.stringify(c.params) }, c.algorithm)],
    ["problem", `${problemLabel(c.problem)}${params ? ` (${params})` : ""}`],
    ["progress", el("span", {}, progressBar(c.progress, "campaign progress"),
      `${number(c.budget.used)} / ${number(c.budget.amount)} ${unit}`)],
    ["front size", frontSize(c), { id: "front-size" }],
    ["hypervolume", c.hypervolume === null ? "—" : number(c.hypervolume), { id: "campaign-hv" }],
    ...(Object.keys(c.conventions || {}).length
      ? [["evaluation conventions", conventionParts(c.conventions), { class: "conventions", id: "conventions" }]] : []),
    ...(state.knownFront ? [["known-front hypervolume", knownFrontHypervolume(c, state.knownFront), { id: "known-front-hv" }]] : []),
    ["reference point", c.reference_point ? `${vector(c.reference_point)} ${c.reference_point_source}` : "not fixed yet"],
    ["seed", String(c.seed)],
    ["started", c.started_at
      ? el("time", { datetime: c.started_at, title: `created ${dateTime(c.created_at)}, started ${dateTime(c.started_at)}` },
        `${shortDateTime(c.started_at)} (${duration(c.started_at, c.finished_at)})`)
      : `queued since ${shortDateTime(c.created_at)}`],
    ["finished", c.finished_at ? el("time", { datetime: c.finished_at, title: dateTime(c.finished_at) }, shortDateTime(c.finished_at)) : "—"],
    ["worker", [c.worker, c.device].filter(Boolean).join(" · ") || (c.runs_on === "client" ? "ask/tell (client)" : "—")],
    ["attempts", `${c.attempts} of ${c.max_attempts}`],
  ];
  if (c.message) facts.push(["message", c.message]);
  const list = document.getElementById("facts");
  list.replaceChildren(...facts.map(([term, value, attributes]) => el("div", attributes || {}, el("dt", {}, term), el("dd", {}, value))));
  if (c.error) list.append(el("div", { class: "alert", role: "alert", style: "grid-column: 1 / -1" }, `error: ${c.error}`));
}

/** The front's evaluations and, where several share an objective vector (a MORL front
 *  often does), how many distinct vectors they are. */
function frontSize(c) {
  const m = state.metrics;
  if (!m || m.front_size !== c.front_size || m.cardinality === m.front_size) return String(c.front_size);
  return `${c.front_size} (${m.cardinality} distinct)`;
}

/** How a MORL campaign's returns are measured, as one line a person reads: the
 *  discount, whether returns are discounted, episodes per evaluation, the reference
 *  point. Every hypervolume on the page is of returns measured this way. */
function conventionParts(conventions) {
  const parts = [];
  const add = (key, text) => parts.push(el("span", { dataset: { convention: key } }, text));
  const shown = ["eval_gamma", "discounted", "eval_episodes", "reference_point", "reference_point_source"];
  if ("eval_gamma" in conventions) add("eval_gamma", `eval γ = ${conventions.eval_gamma}`);
  if ("discounted" in conventions) add("discounted", conventions.discounted ? "discounted returns" : "undiscounted returns");
  const episodes = conventions.eval_episodes;
  if (episodes !== null && episodes !== undefined) add("eval_episodes", `${episodes} episode${episodes === 1 ? "" : "s"} per evaluation`);
  if (conventions.reference_point) {
    const source = conventions.reference_point_source ? ` (${conventions.reference_point_source})` : "";
    add("reference_point", `reference point ${vector(conventions.reference_point)}${source}`);
  }
  for (const [key, value] of Object.entries(conventions)) {
    if (!shown.includes(key)) add(key, `${key.replaceAll("_", " ")}: ${JSON.stringify(value)}`);
  }
  return parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
}

/** The discount of the known front's returns: a MORL campaign's eval γ; null where returns
 *  are not discounted sums (a GFlowNet task's objectives). */
function knownFrontGamma(gamma) {
  return state.campaign.conventions?.eval_gamma === undefined ? null : gamma;
}

function knownFrontHypervolume(c, known) {
  const gamma = knownFrontGamma(known.gamma);
  const text = `${number(known.hypervolume)}${gamma === null ? "" : ` (γ = ${gamma})`}`;
  if (!known.hypervolume || c.hypervolume === null) return text;
  return `${text}; this front reaches ${(100 * c.hypervolume / known.hypervolume).toFixed(1)}%`;
}

async function refreshPlots(objectivesChanged) {
  const c = state.campaign;
  const subset = state.shown.length < c.objectives.length ? state.shown.map((i) => c.objectives[i].name) : null;
  try {
    const [front, history] = await Promise.all([
      api.front(state.id, subset, showDenoised.checked ? { denoised: true } : { contributions: true }),
      api.history(state.id)]);
    state.front = front;
    state.history = history;
    if (showDominated.checked) {
      await loadEvaluations();
    }
    clearError(pageError);
  } catch (error) {
    showError(pageError, error);
    return;
  }
  drawFront(objectivesChanged);
  draw(historyPlot, historyFigure(state.history));
  const ref = state.history.reference_point;
  const gamma = c.conventions?.eval_gamma;
  const measured = gamma === undefined ? "" : ` of returns measured with eval γ = ${gamma}`;
  document.getElementById("history-note").textContent = ref
    ? `Exact hypervolume${measured} under the campaign's reference point ${vector(ref)} (${state.history.reference_point_source}); dotted: front size (right axis).`
    : "The reference point is fixed at the first metric snapshot.";
  renderTable();
  exportButton.disabled = state.front.points.length === 0;
  await renderQuality();
}

/** GET /metrics as a table: each measure, its value, and what it measures. */
async function renderQuality() {
  const table = document.getElementById("front-quality");
  const note = document.getElementById("quality-note");
  const nothingToMeasure = () => {
    table.replaceChildren();
    note.textContent = "No feasible evaluation yet: there is no front to measure.";
  };
  if (state.front.points.length === 0) {
    nothingToMeasure(); // GET /metrics would answer 409
    return;
  }
  let metrics;
  try {
    metrics = await api.metrics(state.id);
    state.metrics = metrics;
    renderFacts();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      nothingToMeasure();
    } else {
      table.replaceChildren();
      note.textContent = "";
      showError(pageError, error);
    }
    return;
  }
  const eu = metrics.expected_utility;
  const rows = [
    ["hypervolume", number(metrics.hypervolume),
      metrics.reference_point ? `exact, under ${vector(metrics.reference_point)} (${metrics.reference_point_source})` : "no reference point yet"],
    ["cardinality", String(metrics.cardinality),
      `distinct objective vectors among the front's ${metrics.front_size} evaluation${metrics.front_size === 1 ? "" : "s"}`],
    ["sparsity", number(metrics.sparsity), "mean squared gap between neighbours per objective, over the distinct vectors; lower is denser"],
    ["expected utility", number(eu.value), `mean over ${eu.n_weights} equally spaced weights of the best linear utility on the front`],
  ];
  const known = metrics.known_front;
  if (known) {
    const gamma = knownFrontGamma(known.gamma);
    const against = `against the known front (${known.size} points${gamma === null ? "" : `, γ = ${gamma}`})`;
    rows.push(
      ["HV ratio", known.hypervolume_ratio === null ? "—" : `${(100 * known.hypervolume_ratio).toFixed(2)}%`,
        `this front's hypervolume over the known front's (${number(known.hypervolume)})`],
      ["IGD", number(known.igd), `${against}; lower is better`],
      ["IGD+", number(known.igd_plus), `${against}, counting only shortfalls; lower is better`],
      ["maximum utility loss", number(known.maximum_utility_loss),
        `the most any of the ${eu.n_weights} weights loses, picking from this front instead of the known one; lower is better`],
      ["coverage", `${(100 * known.coverage).toFixed(1)}%`,
        `known points some front point reaches within ${vector(known.coverage_tolerance)}`],
    );
  }
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "measure"), el("th", { scope: "col", class: "num" }, "value"),
      el("th", { scope: "col" }, "what it measures"))),
    el("tbody", {}, ...rows.map(([name, value, meaning]) => el("tr", { dataset: { measure: name } },
      el("th", { scope: "row" }, name), el("td", { class: "num" }, value), el("td", { class: "small" }, meaning)))));
  const minimised = metrics.objectives.filter((o) => o.sense === "minimize").map((o) => o.name);
  note.textContent = minimised.length
    ? `Measured in the maximisation convention: minimised objectives are negated first (${minimised.join(", ")}).`
    : "";
}

function drawFront(objectivesChanged) {
  const c = state.campaign;
  const objectives = state.front.objectives;
  const indices = objectives.map((o) => c.objectives.findIndex((x) => x.name === o.name));
  // a denoised front is drawn at its predicted values: those are what make it a front
  const denoised = state.front.denoised;
  const front = state.front.points.map((p) => ({
    id: p.evaluation_id, values: denoised ? p.predicted : p.objectives, sem: denoised ? null : p.sem,
  }));
  let dominated = null;
  let infeasible = null;
  if (showDominated.checked) {
    const onFront = new Set(front.map((p) => p.id));
    const rest = state.evaluations.filter((e) => !onFront.has(e.id));
    const project = (e) => ({
      id: e.id, values: indices.map((i) => e.objectives[i]),
      sem: e.meta?.sem ? indices.map((i) => e.meta.sem[i]) : null,
    });
    dominated = rest.filter((e) => e.feasible).map(project);
    infeasible = rest.filter((e) => !e.feasible).map(project);
  }
  const reference = c.reference_point ? indices.map((i) => c.reference_point[i]) : null;
  const knownGamma = state.knownFront ? knownFrontGamma(state.knownFront.gamma) : null;
  const known = state.knownFront
    ? { label: `known front${knownGamma === null ? "" : `, γ = ${knownGamma}`}`, points: state.knownFront.points.map((p) => indices.map((i) => p[i])) }
    : null;
  const figure = frontFigure({
    objectives, front, dominated, infeasible, reference, known,
    referenceSource: c.reference_point_source,
    uirevision: `${state.id}:${indices.join(",")}`,
  });
  if (objectivesChanged) Plotly.purge(frontPlot);
  draw(frontPlot, figure);
  if (!state.clickBound || objectivesChanged) {
    frontPlot.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      if (point && point.customdata !== null && point.customdata !== undefined) showEvaluation(point.customdata);
    });
    state.clickBound = true;
  }
  const kind = objectives.length === 2 ? "2-D scatter" : objectives.length === 3 ? "3-D scatter (drag to rotate)" : "parallel coordinates";
  const parts = [`${front.length} front point${front.length === 1 ? "" : "s"} of ${c.n_evaluations} evaluations, ${kind}.`];
  if (dominated) parts.push(`${dominated.length} dominated${infeasible.length ? ` and ${infeasible.length} infeasible` : ""} shown in grey.`);
  if (reference) parts.push(`Reference point ${vector(reference)} (${c.reference_point_source}).`);
  if (denoised) {
    parts.push("The front of the model's predictions: each point at its predicted values (the GPs' posterior means, with the standard errors told); click it for what was measured.");
  }
  if (objectives.length <= 3 && [...front, ...(dominated || [])].some((p) => p.sem)) {
    parts.push("Bars: ± one standard error, as told with the results.");
  }
  if (known) {
    parts.push(objectives.length > 3
      ? "The known Pareto front is drawn when two or three objectives are shown."
      : `Green diamonds: the problem's known Pareto front${knownGamma === null ? "" : ` at γ = ${knownGamma}`}${objectives.length < c.objectives.length ? " (projected)" : ""}.`);
  }
  if (objectives.length > 3) parts.push("Each line is an evaluation: blue on the front, grey dominated, red the reference point. Pick an evaluation in the table to see it.");
  else parts.push("Click a point to see its evaluation.");
  document.getElementById("front-note").textContent = parts.join(" ");
}

function paramColumns(points) {
  const keys = new Set();
  let scalar = true;
  for (const point of points) {
    for (const [key, value] of Object.entries(point.params || {})) {
      keys.add(key);
      if (value !== null && typeof value === "object") scalar = false;
    }
  }
  return scalar && keys.size <= 12 ? [...keys] : null;
}

function renderTable() {
  const objectives = state.front.objectives;
  const points = state.front.points;
  const keys = paramColumns(points);
  const columns = [
    {
      key: "evaluation", label: "evaluation", value: (p) => p.evaluation_id, numeric: true,
      cell: (p) => el("button", { type: "button", class: "link", onclick: () => showEvaluation(p.evaluation_id),
        "aria-label": `show evaluation ${p.evaluation_id}` }, `#${p.evaluation_id}`),
    },
    { key: "seq", label: "seq", value: (p) => p.seq, numeric: true },
    ...objectives.map((o, i) => ({ key: `o${i}`, label: objectiveLabel(o), value: (p) => p.objectives[i], cell: (p) => number(p.objectives[i]), numeric: true })),
    ...(state.front.reference_point
      ? [{ key: "hvc", label: "HV contribution", value: (p) => p.hv_contribution, cell: (p) => number(p.hv_contribution), numeric: true }]
      : []),
    ...(keys
      ? keys.map((key) => ({ key: `p:${key}`, label: key, value: (p) => p.params[key], cell: (p) => number(p.params[key]),
        numeric: points.every((p) => typeof p.params[key] === "number") }))
      : [{ key: "params", label: "params", value: (p) => JSON.stringify(p.params), sortable: false }]),
  ];
  frontTable = sortableTable(document.getElementById("front-table"), columns, {
    rowAttributes: (p) => ({ dataset: { evaluationId: p.evaluation_id }, class: p.evaluation_id === state.selectedId ? "selected" : null }),
  });
  frontTable.setRows(points.slice(0, TABLE_ROWS));
  document.getElementById("table-heading").textContent = `Front points (${points.length})`;
  document.getElementById("table-note").textContent =
    (points.length > TABLE_ROWS ? `The first ${TABLE_ROWS} of ${points.length} are listed; export the CSV for all. ` : "") +
    (state.front.reference_point
      ? `HV contribution: the hypervolume lost without the point's objective vector, under ${vector(state.front.reference_point)}${state.shown.length < state.campaign.objectives.length ? " on the objectives shown" : ""}. `
      : state.front.contributions_note && state.front.points.length ? `HV contributions: ${state.front.contributions_note}. ` : "") +
    "Click a column header to sort.";
}

async function showEvaluation(evaluationId) {
  state.selectedId = evaluationId;
  for (const row of frontTable.body.querySelectorAll("tr")) {
    row.classList.toggle("selected", Number(row.dataset.evaluationId) === evaluationId);
  }
  let evaluation;
  try {
    evaluation = await api.evaluation(evaluationId);
  } catch (error) {
    detail.replaceChildren(el("div", { class: "alert", role: "alert" }, error.message));
    return;
  }
  const c = state.campaign;
  const preference = Array.isArray(evaluation.params?.preference) ? evaluation.params.preference : null;
  const parts = [
    el("h3", {}, `Evaluation #${evaluation.id}`),
    el("p", { class: "small" },
      `seq ${evaluation.seq} · ${evaluation.kind} · `,
      el("strong", {}, evaluation.on_front ? "on the front" : "dominated"),
      evaluation.feasible ? "" : " · infeasible",
      ` · after ${number(evaluation.budget_used)} ${c.budget.unit.replace("_", " ")}`),
    el("h3", {}, "Objectives"),
    keyValueTable(c.objectives.map((o, i) => [objectiveLabel(o), objectiveText(evaluation, i)]), "objective"),
  ];
  if (preference) {
    parts.push(el("h3", {}, "Preference vector"), el("p", { class: "preference" }, vector(preference)));
  }
  const params = Object.entries(evaluation.params || {}).filter(([key]) => !(preference && key === "preference"));
  if (params.length) {
    parts.push(el("h3", {}, preference ? "Other parameters" : "Parameters"),
      keyValueTable(params.map(([key, value]) => [key, paramText(value)]), "parameter", "evaluation-params"));
  }
  if (evaluation.constraints) {
    const declared = c.problem.constraints || [];
    const constraint = (i) => (declared.length === evaluation.constraints.length && declared[i]) || { name: `c${i}` };
    const told = evaluation.meta?.constraint_values; // kept where the spec bounds a constraint
    const metrics = evaluation.meta?.metric_values || {}; // what a scalarised one sums
    const terms = (i) => Object.keys(constraint(i).terms || {})
      .map((name) => `; ${name} ${number(metrics[name], 8)}`).join("");
    const valueText = (slack, i) => (told
      ? `${number(told[i], 8)} (${constraint(i).op === "<=" ? "≤" : "≥"} ${number(constraint(i).bound)}, slack ${number(slack, 8)}${terms(i)})`
      : number(slack, 8));
    parts.push(el("h3", {}, told ? "Outcome constraints" : "Constraint slacks (feasible when ≥ 0)"),
      keyValueTable(evaluation.constraints.map((v, i) => [constraint(i).name, valueText(v, i)]), "constraint", "evaluation-constraints"));
  }
  if (evaluation.meta && Object.keys(evaluation.meta).length) {
    parts.push(el("h3", {}, "Meta"), el("pre", {}, JSON.stringify(evaluation.meta, null, 2)));
  }
  if (evaluation.artifact_id !== null) {
    const policy = evaluation.kind === "policy";
    parts.push(el("p", {}, el("a", {
      class: "button secondary", id: "download-artifact", href: api.artifactUrl(evaluation.id), download: "",
      title: policy ? `load it with morl.load_policy, or run it with: mofront rollout ${evaluation.id}` : null,
      onclick: (event) => downloadArtifact(event, evaluation.id),
    }, policy ? "Download policy" : `Download artifact #${evaluation.artifact_id}`)));
  }
  detail.dataset.evaluationId = String(evaluation.id);
  detail.replaceChildren(...parts);
}

/** An objective's value, with "± sem" where the result was told with its standard error,
 *  and a noisy test function's noise-free value beside what was observed. */
function objectiveText(evaluation, i) {
  const sem = evaluation.meta?.sem?.[i];
  const truth = evaluation.meta?.true_objectives?.[i];
  const value = number(evaluation.objectives[i], 8);
  const observed = sem === null || sem === undefined ? value : `${value} ± ${number(sem, 4)}`;
  return truth === undefined ? observed : `${observed} (noise-free ${number(truth, 8)})`;
}

/** GET /best for the weights typed: show the evaluation it picks and, where one network
 *  serves every preference (PD-MORL), which stored network to run at them. */
async function pickByPreference(event) {
  event.preventDefault();
  const typed = document.getElementById("preference-input").value.trim();
  preferenceResult.hidden = false;
  if (!typed) {
    const names = state.campaign.objectives.map((o) => o.name).join(", ");
    preferenceResult.replaceChildren(el("p", { class: "alert", role: "alert" },
      `Type one non-negative weight per objective (${names}), separated by commas.`));
    return;
  }
  let best;
  try {
    best = await api.best(state.id, typed, document.getElementById("preference-scalarisation").value);
  } catch (error) {
    preferenceResult.replaceChildren(el("p", { class: "alert", role: "alert" }, error.message));
    return;
  }
  const picked = best.evaluation;
  const parts = [el("p", {},
    `Preference ${vector(best.preference)} picks evaluation #${picked.id} `,
    best.scalarisation === "chebyshev"
      ? `(weighted Chebyshev distance to the ideal ${number(-best.utility, 4)}, normalised): `
      : `(normalised utility ${number(best.utility, 4)}): `,
    `${vector(picked.objectives)}.`)];
  const served = best.act_evaluation;
  if (served) {
    const round = served.meta?.round;
    const at = best.act_preference.join(",");
    parts.push(el("p", { id: "served-network" },
      `To serve this preference: the network of ${round === undefined ? `evaluation #${served.id}` : `round ${round}`}, `,
      `acting with ${vector(best.act_preference)}; at ${vector(served.params.preference)} it returned `,
      `${vector(served.objectives)}. `,
      el("a", { href: api.artifactUrl(served.id), download: "", id: "download-served",
        title: `load it with morl.load_policy, or run it with: mofront rollout ${served.id} --preference ${at}`,
        onclick: (e) => downloadArtifact(e, served.id) }, "Download network"),
      " · ", el("code", {}, `mofront rollout ${served.id} --preference ${at}`)));
  }
  preferenceResult.replaceChildren(...parts);
  await showEvaluation(picked.id);
}

/** A plain link downloads on an open server; with a token, fetch sends it and the bytes
 *  are saved from memory. */
async function downloadArtifact(event, evaluationId) {
  if (!storedToken()) return;
  event.preventDefault();
  try {
    const response = await api.artifact(evaluationId);
    const disposition = response.headers.get("content-disposition") || "";
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] || `evaluation-${evaluationId}-artifact`;
    download(filename, await response.blob(), response.headers.get("content-type") || "application/octet-stream");
  } catch (error) {
    showError(pageError, error instanceof ApiError ? error : String(error));
  }
}

function keyValueTable(rows, what, id) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, what), el("th", { scope: "col", class: "num" }, "value"))),
    el("tbody", {}, ...rows.map(([key, value]) => el("tr", {}, el("th", { scope: "row" }, key), el("td", { class: "num" }, value)))));
}

function exportCsv() {
  const objectives = state.front.objectives;
  const points = state.front.points;
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.params || {})))];
  const sems = points.some((p) => p.sem) ? objectives.map((o) => `sem.${o.name}`) : [];
  const header = ["evaluation_id", "seq", ...objectives.map((o) => o.name), ...keys.map((k) => `param.${k}`), ...sems];
  const lines = [header.map(csvCell).join(",")];
  for (const p of points) {
    const sem = sems.map((_, i) => (p.sem ? p.sem[i] : null));
    lines.push([p.evaluation_id, p.seq, ...p.objectives, ...keys.map((k) => p.params[k]), ...sem].map(csvCell).join(","));
  }
  const suffix = state.shown.length < state.campaign.objectives.length ? `-${objectives.map((o) => o.name).join("-")}` : "";
  download(`campaign-${state.id}-front${suffix}.csv`, `${lines.join("\n")}\n`);
}

async function cancel() {
  const c = state.campaign;
  if (!window.confirm(`Cancel campaign ${c.id} (${c.name})? What it has recorded stays.`)) return;
  cancelButton.disabled = true;
  try {
    state.campaign = await api.cancel(c.id);
    renderFacts();
  } catch (error) {
    showError(pageError, error instanceof ApiError ? error : String(error));
  } finally {
    cancelButton.disabled = false;
  }
}
