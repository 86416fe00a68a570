// A campaign page's sections on its parameters and on the BO methods' model, each
// loaded when asked for: the objectives against each parameter (Optuna's slice plot) with
// the model along it through one evaluation (GET /model-slice), the model over two
// parameters (GET /model-contour), the model's fit
// (GET /model-fit, leave-one-out) and the parameters' importance (GET /importance).
// Shown for the problem kinds with decision parameters.

import { ApiError, api } from "./api.js";
import { contourFigure, draw, fitFigure, importanceFigure, sliceFigure } from "./plots.js";
import { constraintLabel, constraintValue, el, objectiveLabel, paramText, parameterNames } from "./ui.js";

// a leave-one-out R² under this: the model has not learnt the outcome
const POOR_FIT = 0.5;
// the problem kinds with decision parameters
export const PARAMETRIC_KINDS = ["test-function", "external"];

const importanceButton = document.getElementById("importance-compute");
const importanceOutcome = document.getElementById("importance-outcome");
const fitButton = document.getElementById("fit-compute");
const fitOutcome = document.getElementById("fit-outcome");
const sliceButton = document.getElementById("slice-show");
const sliceParameter = document.getElementById("slice-parameter");
const sliceOutcome = document.getElementById("slice-outcome");
const sliceModel = document.getElementById("slice-model");
const slicePlot = document.getElementById("slice-plot");
const contourX = document.getElementById("contour-x");
const contourY = document.getElementById("contour-y");
const contourOutcome = document.getElementById("contour-outcome");
const contourButton = document.getElementById("contour-draw");

let page = null; // {id, campaign(), evaluations (shared, filled as needed), front()}
const state = {
  importance: null, // ImportanceOut, once computed
  fit: null, // ModelFitOut, once computed
  slicing: false, // the slice plot is shown (and follows new evaluations)
  sliceThrough: null, // the evaluation the model slice goes through (null: the API's default)
  sliceModels: new Map(), // ModelSliceOut by "parameter@evaluation", for the evaluations loaded
  sliceClickBound: false,
  sliceDrawing: 0, // counts the slice plot's draws
};

/** Show the sections where the campaign's problem has parameters and wire them up;
 *  `refresh()` (once the front is loaded, and after new evaluations) fills the contour's
 *  choices once there are parameters to choose from, and redraws the slice plot if it is
 *  shown. */
export function setUpModelSections(campaignPage) {
  page = campaignPage;
  const parametric = PARAMETRIC_KINDS.includes(page.campaign().problem.kind);
  const sections = ["importance", "slices", "model-fit", "contour"];
  for (const id of sections) document.getElementById(id).hidden = !parametric;

  fitButton.addEventListener("click", computeFit);
  fitOutcome.addEventListener("change", drawFit);
  sliceButton.addEventListener("click", showSlices);
  sliceParameter.addEventListener("change", drawSlice);
  sliceOutcome.addEventListener("change", drawSlice);
  sliceModel.addEventListener("change", drawSlice);
  importanceButton.addEventListener("click", computeImportance);
  importanceOutcome.addEventListener("change", drawImportance);
  contourButton.addEventListener("click", drawContour);
  return {
    refresh: async () => {
      if (parametric && !contourX.options.length) fillContourChoices();
      if (state.slicing) await showSlices();
    },
  };
}

/** Run a request a button asked for: the button disabled and `busy` in `note` meanwhile;
 *  then the button reads `again`; on failure the API's message in `note` and null. */
async function onDemand(button, note, busy, again, load) {
  button.disabled = true;
  note.textContent = busy;
  try {
    const result = await load();
    button.textContent = again;
    return result;
  } catch (error) {
    note.textContent = error instanceof ApiError ? error.message : String(error);
    return null;
  } finally {
    button.disabled = false;
  }
}

/** One option per outcome of a GET /importance or /model-fit answer. */
function fillOutcomes(select, outcomes) {
  select.replaceChildren(...outcomes.map((outcome, i) =>
    el("option", { value: String(i) }, `${outcome.name} (${outcome.kind})`)));
  select.disabled = outcomes.length < 2;
}

async function computeFit() {
  const note = document.getElementById("fit-note");
  const result = await onDemand(fitButton, note, "Fitting the model and cross-validating…", "Check again",
    () => api.modelFit(page.id));
  if (!result) return;
  state.fit = result;
  fillOutcomes(fitOutcome, result.outcomes);
  const statistic = (value) => (value === null ? "—" : value.toFixed(3));
  document.getElementById("fit-table").replaceChildren(
    el("thead", {}, el("tr", {}, ...["outcome", "R²", "rank correlation", "inside the 95% interval"].map(
      (name, i) => el("th", { scope: "col", class: i ? "num" : "" }, name)))),
    el("tbody", {}, ...result.outcomes.map((o) => el("tr", { dataset: { outcome: o.name } },
      el("th", { scope: "row" }, o.name), el("td", { class: "num" }, statistic(o.r2)),
      el("td", { class: "num" }, statistic(o.rank_correlation)),
      el("td", { class: "num" }, `${(100 * o.coverage).toFixed(0)}%`)))));
  note.textContent = `From ${result.n_evaluations} evaluations: ${result.method}.`;
  drawFit();
}

function drawFit() {
  const plot = document.getElementById("fit-plot");
  plot.hidden = false;
  draw(plot, fitFigure(state.fit.outcomes[Number(fitOutcome.value) || 0]));
}

/** Load the evaluations not loaded yet and draw the slice plot. */
async function showSlices() {
  try {
    await page.loadEvaluations();
  } catch (error) {
    document.getElementById("slice-note").textContent = error instanceof ApiError ? error.message : String(error);
    return;
  }
  state.slicing = true;
  sliceButton.hidden = true;
  if (!sliceParameter.options.length) {
    const names = parameterNames(page.campaign(), page.evaluations);
    sliceParameter.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
    const c = page.campaign();
    const outcomes = [...c.objectives.map((o, i) => ({ label: objectiveLabel(o), key: `o${i}` })),
      ...(page.evaluations[0]?.constraints || []).map((_, i) => ({ label: constraintLabel(page.campaign(), i), key: `c${i}` }))];
    sliceOutcome.replaceChildren(...outcomes.map((o) => el("option", { value: o.key }, o.label)));
    sliceParameter.disabled = names.length < 2;
    sliceOutcome.disabled = outcomes.length < 2;
    sliceModel.disabled = false;
  }
  state.sliceModels.clear(); // the model changes with every evaluation
  await drawSlice();
}

async function drawSlice() {
  const parameter = sliceParameter.value;
  const key = sliceOutcome.value;
  const label = sliceOutcome.selectedOptions[0]?.textContent;
  const note = document.getElementById("slice-note");
  if (!parameter || !key) {
    note.textContent = "No evaluations yet.";
    return;
  }
  const drawing = ++state.sliceDrawing; // a later choice made while the model loads wins
  let model = null;
  if (sliceModel.checked) {
    try {
      model = await modelSlice(parameter);
    } catch (error) {
      sliceModel.checked = false;
      note.textContent = error instanceof ApiError ? error.message : String(error);
      return;
    }
  }
  if (drawing !== state.sliceDrawing) return;
  const index = Number(key.slice(1));
  const value = (e) => (key[0] === "o" ? e.objectives[index] : constraintValue(e, index));
  const onFront = new Set(page.front().points.map((p) => p.evaluation_id));
  const points = page.evaluations.filter((e) => value(e) !== undefined && value(e) !== null).map((e) => ({
    id: e.id, x: e.params[parameter], y: value(e), seq: e.seq, feasible: e.feasible,
    onFront: e.on_front || onFront.has(e.id),
  }));
  const spec = (page.campaign().problem.parameters || []).find((p) => p.name === parameter);
  const m = page.campaign().objectives.length;
  const curve = model && model.outcomes[key[0] === "o" ? index : m + index];
  slicePlot.hidden = false;
  await draw(slicePlot, sliceFigure({
    parameter, outcome: label, points, logScale: Boolean(spec?.log_scale),
    model: curve ? { values: model.values, mean: curve.mean, sd: curve.sd, inside: model.inside } : null,
  }));
  if (!state.sliceClickBound) {
    slicePlot.on("plotly_click", (event) => {
      const id = event.points?.[0]?.customdata;
      if (typeof id !== "number") return;
      state.sliceThrough = id;
      if (sliceModel.checked) drawSlice();
    });
    state.sliceClickBound = true;
  }
  const others = model ? Object.entries(model.at_params).filter(([name]) => name !== parameter)
    .map(([name, value]) => `${name} = ${paramText(value)}`).join(", ") : "";
  note.textContent = `${points.length} evaluation${points.length === 1 ? "" : "s"}` +
    `${spec?.log_scale ? `; ${parameter} on a log scale` : ""}.` +
    (model ? ` The model: its mean and 95% band along ${parameter} through evaluation ${model.at_evaluation_id}` +
      `${others ? `, the other parameters held at its values (${others})` : ""}` +
      `${model.inside.includes(false) ? "; dotted where the parameter constraints do not hold" : ""}.` : "");
}

/** GET /model-slice through the chosen evaluation, fetched once per parameter and point. */
async function modelSlice(parameter) {
  const cacheKey = `${parameter}@${state.sliceThrough}`;
  if (!state.sliceModels.has(cacheKey)) {
    const params = { parameter, ...(state.sliceThrough === null ? {} : { at: state.sliceThrough }) };
    state.sliceModels.set(cacheKey, await api.modelSlice(page.id, params));
  }
  return state.sliceModels.get(cacheKey);
}

async function computeImportance() {
  const note = document.getElementById("importance-note");
  const result = await onDemand(importanceButton, note, "Fitting the model and computing…", "Compute again",
    () => api.importance(page.id));
  if (!result) return;
  state.importance = result;
  fillOutcomes(importanceOutcome, result.outcomes);
  const constrained = result.outcomes.some((o) => o.shapley);
  const cell = (outcome, i) => outcome.total === null ? "flat"
    : `${share(outcome.total[i])} (${share(outcome.first_order[i])})` +
      (constrained ? `; ${outcome.shapley ? share(outcome.shapley[i]) : "flat"}` : "");
  const heading = constrained ? "total (first order); Shapley" : "total (first order)";
  document.getElementById("importance-table").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "parameter"),
      ...result.outcomes.map((o) => el("th", { scope: "col", class: "num" }, `${o.name}: ${heading}`)))),
    el("tbody", {}, ...result.parameters.map((parameter, i) => el("tr", { dataset: { parameter } },
      el("th", { scope: "row" }, parameter),
      ...result.outcomes.map((o) => el("td", { class: "num" }, cell(o, i)))))),
    el("tfoot", {}, el("tr", {}, el("th", { scope: "row" }, "model R² (leave-one-out)"),
      ...result.outcomes.map((o) => el("td", { class: "num" }, o.fit_r2 === null ? "—" : o.fit_r2.toFixed(3))))));
  const poor = result.outcomes.filter((o) => o.fit_r2 !== null && o.fit_r2 < POOR_FIT);
  const warning = poor.map((o) => `The model predicts ${o.name} poorly (leave-one-out R² ${o.fit_r2.toFixed(2)}): its indices describe the model more than ${o.name}.`);
  note.textContent = [...warning, `From ${result.n_evaluations} evaluations. ${result.method}.`,
    ...(result.note ? [`Note: ${result.note}.`] : [])].join(" ");
  drawImportance();
}

/** An index to three decimals; an estimate a hair under 0 reads 0.000, not -0.000. */
function share(value) {
  return (Math.abs(value) < 0.0005 ? 0 : value).toFixed(3);
}

function drawImportance() {
  const plot = document.getElementById("importance-plot");
  plot.hidden = false;
  draw(plot, importanceFigure(state.importance, state.importance.outcomes[Number(importanceOutcome.value) || 0]));
}


/** The contour's parameter and outcome choices: the declared parameters (a test
 *  function's, those of its front's points), and the objectives. */
function fillContourChoices() {
  const campaign = page.campaign();
  const names = campaign.problem.parameters?.map((p) => p.name) ??
    Object.keys(page.front()?.points[0]?.params ?? {});
  if (!names.length) return; // a test function with nothing on its front yet
  contourX.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
  contourY.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
  contourY.value = names[1] ?? names[0];
  contourOutcome.replaceChildren(...campaign.objectives.map((o, i) =>
    el("option", { value: String(i) }, objectiveLabel(o))));
  const twoOrMore = names.length >= 2;
  for (const control of [contourX, contourY, contourOutcome, contourButton]) control.disabled = !twoOrMore;
  if (!twoOrMore) document.getElementById("contour-note").textContent = "A contour needs two parameters.";
}

async function drawContour() {
  const note = document.getElementById("contour-note");
  const result = await onDemand(contourButton, note, "Fitting the model…", "Draw again",
    () => api.modelContour(page.id, { x: contourX.value, y: contourY.value }));
  if (!result) return;
  try {
    await page.loadEvaluations();
  } catch (error) {
    note.textContent = error instanceof ApiError ? error.message : String(error);
    return;
  }
  const declared = page.campaign().problem.parameters || [];
  const logScale = (name) => Boolean(declared.find((p) => p.name === name)?.log_scale);
  const plot = document.getElementById("contour-plot");
  plot.hidden = false;
  draw(plot, contourFigure({
    result, outcome: result.outcomes[Number(contourOutcome.value) || 0],
    points: page.evaluations.map((e) => ({ id: e.id, x: e.params[result.x], y: e.params[result.y] })),
    held: { x: result.at_params[result.x], y: result.at_params[result.y] },
    logX: logScale(result.x), logY: logScale(result.y),
  }));
  const others = Object.entries(result.at_params).filter(([name]) => name !== result.x && name !== result.y)
    .map(([name, value]) => `${name} = ${paramText(value)}`).join(", ");
  note.textContent = `Through evaluation ${result.at_evaluation_id}` +
    `${others ? `, the other parameters held at its values (${others})` : ""}.`;
}
