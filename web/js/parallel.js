// Parameters and outcomes together: every evaluation of a campaign with parameters as one
// line across its parameters, objectives and outcome constraints (Optuna's and Ax's
// parallel coordinates plot). Ranges dragged along the axes keep the evaluations inside
// all of them, which are listed in a table that opens each one, and exported as CSV.
/* global Plotly */

import { ApiError } from "./api.js";
import { draw, parallelFigure } from "./plots.js";
import {
  constraintLabel, constraintValue, csvCell, download, el, number, objectiveLabel, paramText, parameterNames,
  sortableTable,
} from "./ui.js";

// The kept evaluations listed at most; the note counts them all.
const LISTED = 500;

const showButton = document.getElementById("parallel-show");
const colourSelect = document.getElementById("parallel-colour");
const clearButton = document.getElementById("parallel-clear");
const exportButton = document.getElementById("parallel-export");
const plot = document.getElementById("parallel-plot");
const note = document.getElementById("parallel-note");

let page = null; // {id, campaign(), evaluations, loadEvaluations(), showEvaluation(id)}
const state = {
  shown: false, // the plot is drawn (and follows new evaluations)
  rows: [], // the evaluations drawn, in the plot's line order
  leftOut: 0, // evaluations without a value on every axis
  kept: [], // the evaluations inside every range dragged, by seq
  axes: [], // their axes: {label, values, describe(range dragged) …}
  ranges: new Map(), // constraint ranges dragged, by axis label
  restyleBound: false,
};

/** Show the section where the campaign has parameters; `refresh()` redraws the plot
 *  with the new evaluations once it is shown. */
export function setUpParallel(campaignPage, parametric) {
  page = campaignPage;
  document.getElementById("parallel").hidden = !parametric;
  showButton.addEventListener("click", show);
  colourSelect.addEventListener("change", redraw);
  clearButton.addEventListener("click", clearRanges);
  exportButton.addEventListener("click", exportKept);
  return { refresh: async () => { if (state.shown) await show(); } };
}

async function show() {
  try {
    await page.loadEvaluations();
  } catch (error) {
    note.textContent = error instanceof ApiError ? error.message : String(error);
    return;
  }
  state.shown = true;
  showButton.hidden = true;
  if (!colourSelect.options.length) fillColours();
  await redraw();
}

/** Colour by the front (as the front plot), the order evaluated, or one outcome. */
function fillColours() {
  const c = page.campaign();
  const constraints = page.evaluations[0]?.constraints || [];
  colourSelect.replaceChildren(
    el("option", { value: "front" }, "front, dominated, infeasible"),
    el("option", { value: "seq" }, "order evaluated (seq)"),
    ...c.objectives.map((o, i) => el("option", { value: `o${i}` }, objectiveLabel(o))),
    ...constraints.map((_, i) => el("option", { value: `c${i}` }, constraintLabel(c, i))));
  colourSelect.disabled = false;
}

async function redraw() {
  const c = page.campaign();
  const outcomes = [
    ...c.objectives.map((o, i) => ({ key: `o${i}`, label: objectiveLabel(o), value: (e) => e.objectives[i] })),
    ...(page.evaluations[0]?.constraints || []).map((_, i) => ({
      key: `c${i}`, label: constraintLabel(c, i), value: (e) => constraintValue(e, i) })),
  ];
  const names = parameterNames(c, page.evaluations);
  const specs = new Map((c.problem.parameters || []).map((p) => [p.name, p]));
  // a line needs a value on every axis
  state.rows = page.evaluations.filter((e) =>
    names.every((name) => Number.isFinite(parameterAxisValue(specs.get(name), e.params[name]))) &&
    outcomes.every((o) => Number.isFinite(o.value(e))));
  const order = { infeasible: 0, dominated: 1, front: 2 }; // the front's lines drawn last, on top
  state.rows.sort((a, b) => order[standing(a)] - order[standing(b)] || a.seq - b.seq);
  state.axes = [
    ...names.map((name) => parameterAxis(name, specs.get(name))),
    ...outcomes.map((o) => ({ label: o.label, values: state.rows.map(o.value), describe: spanText(number) })),
  ];
  for (const axis of state.axes) axis.constraintrange = state.ranges.get(axis.label);
  const colour = lineColour(colourSelect.value, outcomes);
  plot.hidden = false;
  await draw(plot, parallelFigure({ axes: state.axes, colour, kinds: state.rows.map(standing) }));
  if (!state.restyleBound) {
    // a range dragged (or cleared) on an axis
    plot.on("plotly_restyle", () => {
      const dimensions = plot.data[0].dimensions;
      state.ranges = new Map(dimensions.filter((d) => d.constraintrange?.length)
        .map((d) => [d.label, d.constraintrange]));
      showKept();
    });
    state.restyleBound = true;
  }
  state.leftOut = page.evaluations.length - state.rows.length;
  showKept();
}

/** The values the lines are coloured by: seq or an outcome's; null for the front. */
function lineColour(chosen, outcomes) {
  if (chosen === "seq") return { label: "seq", values: state.rows.map((e) => e.seq) };
  const outcome = outcomes.find((o) => o.key === chosen);
  return outcome ? { label: outcome.label, values: state.rows.map(outcome.value) } : null;
}

/** A parameter's axis: a choice by its index among the values declared, a log-scale
 *  parameter by log10 with ticks at its values, the declared box as the range. */
function parameterAxis(name, spec) {
  const values = state.rows.map((e) => parameterAxisValue(spec, e.params[name]));
  if (spec?.value_type === "choice") {
    const choices = spec.values;
    return {
      label: name, values, range: choices.length > 1 ? [0, choices.length - 1] : [-1, 1],
      tickvals: choices.map((_, i) => i), ticktext: choices.map(String),
      describe: (spans) => choices.filter((_, i) => inside(i, spans)).map(String).join(", ") || "no value",
    };
  }
  if (spec?.log_scale) {
    const range = [Math.log10(spec.low), Math.log10(spec.high)];
    const tickvals = logTicks(range);
    return {
      label: `${name} (log scale)`, values, range, tickvals,
      ticktext: tickvals.map(powerText), describe: spanText((v) => number(10 ** v, 3)),
    };
  }
  const whole = spec?.value_type === "int";
  return { label: name, values, ...(spec ? { range: [spec.low, spec.high] } : {}), describe: spanText(number, whole) };
}

/** "a to b" for each span of a range dragged, a value shown by `text`; of a whole
 *  number, the first and last whole numbers inside. */
function spanText(text, whole = false) {
  return (spans) => (Array.isArray(spans[0]) ? spans : [spans])
    .map(([low, high]) => (whole ? [Math.ceil(low), Math.floor(high)] : [low, high]))
    .map(([low, high]) => `${text(low)} to ${text(high)}`).join(" or ");
}

/** A parameter's value on its axis: a choice's index, log10 on a log scale. */
function parameterAxisValue(spec, value) {
  if (spec?.value_type === "choice") {
    const index = spec.values.indexOf(value);
    return index < 0 ? NaN : index;
  }
  if (typeof value !== "number") return NaN;
  return spec?.log_scale ? Math.log10(value) : value;
}

/** Ticks of a log10 axis: its whole decades, or five steps where it spans under two. */
function logTicks([low, high]) {
  const decades = [];
  for (let d = Math.ceil(low); d <= Math.floor(high); d += 1) decades.push(d);
  if (decades.length >= 2) return decades;
  return [0, 1, 2, 3, 4].map((k) => low + ((high - low) * k) / 4);
}

/** 10^v as a tick reads: "0.01", "1e-5", or three digits between decades. */
function powerText(v) {
  if (!Number.isInteger(v)) return number(10 ** v, 3);
  return v >= -3 && v <= 4 ? number(10 ** v) : `1e${v}`;
}

function inside(value, range) {
  const spans = Array.isArray(range[0]) ? range : [range];
  return spans.some(([low, high]) => value >= low && value <= high);
}

/** The evaluations inside every range dragged: counted in the note, listed in the table. */
function showKept() {
  const active = state.axes.filter((axis) => state.ranges.has(axis.label));
  const kept = state.rows.filter((_, row) =>
    active.every((axis) => inside(axis.values[row], state.ranges.get(axis.label))));
  clearButton.hidden = !active.length;
  exportButton.hidden = !active.length || !kept.length;
  const ranges = active.map((axis) => `${axis.label} ${axis.describe(state.ranges.get(axis.label))}`);
  const left = state.leftOut;
  note.textContent = (active.length
    ? `${kept.length} of ${state.rows.length} evaluations inside ${ranges.join("; ")}.`
    : `${state.rows.length} evaluation${state.rows.length === 1 ? "" : "s"}; drag along an axis to keep those inside a range.`) +
    (left ? ` ${left} without a value on every axis are left out.` : "") +
    (kept.length > LISTED ? ` The first ${LISTED} are listed.` : "");
  state.kept = active.length ? [...kept].sort((a, b) => a.seq - b.seq) : [];
  renderTable(state.kept);
}

function renderTable(kept) {
  const c = page.campaign();
  const names = parameterNames(c, page.evaluations);
  const constraints = page.evaluations[0]?.constraints || [];
  const columns = [
    {
      key: "evaluation", label: "evaluation", value: (e) => e.id, numeric: true,
      cell: (e) => el("button", { type: "button", class: "link", onclick: () => page.showEvaluation(e.id),
        "aria-label": `show evaluation ${e.id}` }, `#${e.id}`),
    },
    { key: "seq", label: "seq", value: (e) => e.seq, numeric: true },
    { key: "standing", label: "standing", value: standing },
    ...names.map((name) => ({
      key: `p:${name}`, label: name, value: (e) => e.params[name], cell: (e) => paramText(e.params[name]),
      numeric: kept.every((e) => typeof e.params[name] === "number"),
    })),
    ...c.objectives.map((o, i) => ({
      key: `o${i}`, label: objectiveLabel(o), value: (e) => e.objectives[i], cell: (e) => number(e.objectives[i]), numeric: true })),
    ...constraints.map((_, i) => ({
      key: `c${i}`, label: constraintLabel(c, i), value: (e) => constraintValue(e, i), cell: (e) => number(constraintValue(e, i)), numeric: true })),
  ];
  const tableNode = document.getElementById("parallel-table");
  tableNode.hidden = !kept.length;
  const table = sortableTable(tableNode, columns, { rowAttributes: (e) => ({ dataset: { evaluationId: e.id } }) });
  table.setRows(kept.slice(0, LISTED));
}

/** Every evaluation kept, as CSV: its id, seq, standing, parameters and outcomes. */
function exportKept() {
  const c = page.campaign();
  const names = parameterNames(c, page.evaluations);
  const constraints = page.evaluations[0]?.constraints || [];
  const header = ["evaluation_id", "seq", "standing", ...names.map((name) => `param.${name}`),
    ...c.objectives.map((o) => o.name), ...constraints.map((_, i) => `constraint.${(c.problem.constraints || [])[i]?.name ?? `c${i}`}`)];
  const lines = [header, ...state.kept.map((e) => [
    e.id, e.seq, standing(e),
    ...names.map((name) => e.params[name]), ...e.objectives, ...constraints.map((_, i) => constraintValue(e, i))])];
  download(`campaign-${page.id}-selected.csv`, `${lines.map((line) => line.map(csvCell).join(",")).join("\n")}\n`);
}

/** Where an evaluation stands: "front", "dominated" or "infeasible". */
function standing(e) {
  return !e.feasible ? "infeasible" : e.on_front ? "front" : "dominated";
}

function clearRanges() {
  const dimensions = plot.data[0].dimensions;
  Plotly.restyle(plot, Object.fromEntries(dimensions.map((_, k) => [`dimensions[${k}].constraintrange`, null])), [0]);
}
