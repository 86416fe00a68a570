// Plotly figures of the viewer: Pareto fronts (2-D, 3-D, parallel coordinates), their
// overlays, and hypervolume curves. Pure functions from API data to {data, layout}.
/* global Plotly */

import { number, objectiveLabel, vector } from "./ui.js";

export const FRONT_COLOUR = "#1a56b8";
export const DOMINATED_COLOUR = "#b3bac7";
export const INFEASIBLE_COLOUR = "#d9a3a3";
export const REFERENCE_COLOUR = "#b3330b";
export const KNOWN_COLOUR = "#009E73";
const SEM_COLOUR = "#6b7280";
// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#000000"];

// Above this many points a 2-D trace is drawn with WebGL.
const WEBGL_ABOVE = 3000;

export const CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d"],
};

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13, color: "#1d2330" };

function baseLayout(extra) {
  return {
    font: FONT,
    margin: { l: 70, r: 20, t: 36, b: 60 },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    hovermode: "closest",
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", bgcolor: "rgba(255,255,255,0.8)" },
    ...extra,
  };
}

function axis(title, extra = {}) {
  return {
    title: { text: title },
    zeroline: false,
    gridcolor: "#e3e7ee",
    linecolor: "#8b94a5",
    automargin: true,
    ...extra,
  };
}

function empty(message) {
  return {
    xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false,
    text: message, font: { size: 15, color: "#4f5869" },
  };
}

/** Line shape of a 2-D front drawn as a staircase, points sorted by x ascending:
 *  the attainment boundary runs horizontally first when x is minimised. */
function stairs(xSense) {
  return xSense === "minimize" ? "hv" : "vh";
}

function hoverTemplate(objectives, coords, label) {
  const lines = objectives.map((o, i) => `${o.name}: %{${coords[i]}:.5g}`);
  return `evaluation %{customdata}<br>${lines.join("<br>")}<extra>${label}</extra>`;
}

const COORDS = ["x", "y", "z"];

/**
 * The figure of one campaign's front on the chosen objectives.
 * objectives: [{name, sense}] shown; front, dominated, infeasible: [{id, values, sem}] with
 * values in the order of `objectives` (sem: their standard errors, drawn as error bars, or
 * null); reference: values or null; known: the problem's
 * known Pareto front {label, points: [values]} or null (drawn in 2-D and 3-D only).
 */
export function frontFigure({ objectives, front, dominated, infeasible, reference, referenceSource, known, uirevision }) {
  const m = objectives.length;
  if (m === 2 || m === 3) {
    return scatterFigure({ objectives, front, dominated, infeasible, reference, referenceSource, known, uirevision });
  }
  return parcoordsFigure({ objectives, front, dominated: [...(dominated || []), ...(infeasible || [])], reference, uirevision });
}

function scatterFigure({ objectives, front, dominated, infeasible, reference, referenceSource, known, uirevision }) {
  const three = objectives.length === 3;
  const coords = COORDS.slice(0, objectives.length);
  const data = [];
  const points = (items) => ({
    ...Object.fromEntries(coords.map((c, i) => [c, items.map((p) => p.values[i])])),
    ...errorBars(items, coords),
  });
  const type = (n) => (three ? "scatter3d" : n > WEBGL_ABOVE ? "scattergl" : "scatter");

  if (dominated && dominated.length) {
    data.push({
      type: type(dominated.length), mode: "markers", name: `dominated (${dominated.length})`,
      meta: { role: "dominated" }, ...points(dominated), customdata: dominated.map((p) => p.id),
      marker: { color: DOMINATED_COLOUR, size: three ? 3 : 6, opacity: 0.75 },
      hovertemplate: hoverTemplate(objectives, coords, "dominated"),
    });
  }
  if (infeasible && infeasible.length) {
    data.push({
      type: type(infeasible.length), mode: "markers", name: `infeasible (${infeasible.length})`,
      meta: { role: "infeasible" }, ...points(infeasible), customdata: infeasible.map((p) => p.id),
      marker: { color: INFEASIBLE_COLOUR, size: three ? 3 : 7, symbol: "x" },
      hovertemplate: hoverTemplate(objectives, coords, "infeasible"),
    });
  }
  const sorted = three ? front : [...front].sort((a, b) => a.values[0] - b.values[0]);
  data.push({
    type: type(sorted.length), mode: three ? "markers" : "lines+markers",
    name: `Pareto front (${front.length})`, meta: { role: "front" },
    ...points(sorted), customdata: sorted.map((p) => p.id),
    marker: { color: FRONT_COLOUR, size: three ? 5 : 9, line: { color: "#ffffff", width: three ? 0 : 1 } },
    line: three ? undefined : { color: FRONT_COLOUR, width: 1.5, shape: stairs(objectives[0].sense) },
    hovertemplate: hoverTemplate(objectives, coords, "front"),
  });
  if (known && known.points.length) {
    // After the campaign's front: where the two coincide, a click still finds the
    // campaign's point (Plotly gives a tie to the earlier trace), drawn inside the diamond.
    const values = three ? known.points : [...known.points].sort((a, b) => a[0] - b[0]);
    data.push({
      type: three ? "scatter3d" : "scatter", mode: three ? "markers" : "lines+markers",
      name: `${known.label} (${values.length})`, meta: { role: "known-front" },
      ...Object.fromEntries(coords.map((c, i) => [c, values.map((v) => v[i])])),
      customdata: values.map(() => null),
      marker: three
        ? { color: KNOWN_COLOUR, size: 4, symbol: "circle", opacity: 0.7 }
        : { color: KNOWN_COLOUR, size: 11, symbol: "diamond-open", line: { width: 2 } },
      line: three ? undefined : { color: KNOWN_COLOUR, width: 1, dash: "dot", shape: stairs(objectives[0].sense) },
      hovertemplate: `${objectives.map((o, i) => `${o.name}: %{${coords[i]}:.5g}`).join("<br>")}<extra>${known.label}</extra>`,
    });
  }
  if (reference) {
    data.push({
      type: three ? "scatter3d" : "scatter", mode: "markers",
      name: `reference point (${referenceSource || "?"})`, meta: { role: "reference" },
      ...Object.fromEntries(coords.map((c, i) => [c, [reference[i]]])), customdata: [null],
      // gl3d draws symbols from a font: a circle is the one glyph every system has
      marker: three
        ? { color: REFERENCE_COLOUR, size: 7, symbol: "circle" }
        : { color: REFERENCE_COLOUR, size: 13, symbol: "x-thin-open", line: { width: 3, color: REFERENCE_COLOUR } },
      hovertemplate: `reference point ${vector(reference)}<extra>${referenceSource || ""}</extra>`,
    });
  }
  const annotations = front.length || (dominated && dominated.length) ? [] : [empty("No evaluations yet")];
  if (three) {
    return {
      data,
      layout: baseLayout({
        uirevision,
        margin: { l: 0, r: 0, t: 36, b: 0 },
        scene: {
          xaxis: axis(objectiveLabel(objectives[0])),
          yaxis: axis(objectiveLabel(objectives[1])),
          zaxis: axis(objectiveLabel(objectives[2])),
          aspectmode: "cube",
          camera: { eye: { x: 1.35, y: 1.35, z: 0.95 }, center: { x: 0, y: 0, z: -0.12 } },
        },
        annotations,
      }),
    };
  }
  return {
    data,
    layout: baseLayout({
      uirevision,
      xaxis: axis(objectiveLabel(objectives[0])),
      yaxis: axis(objectiveLabel(objectives[1])),
      annotations,
    }),
  };
}

/** ± one standard error on each axis, for results told with their sem (null: no bar). */
function errorBars(items, coords) {
  if (!items.some((p) => p.sem)) return {};
  return Object.fromEntries(coords.map((c, i) => [`error_${c}`, {
    type: "data", visible: true, thickness: 1, width: 3, color: SEM_COLOUR,
    array: items.map((p) => (p.sem && p.sem[i] !== null && p.sem[i] !== undefined ? p.sem[i] : null)),
  }]));
}

function parcoordsFigure({ objectives, front, dominated, reference, uirevision }) {
  // Draw order: dominated lines under the front, the reference point on top.
  const rows = [
    ...dominated.map((p) => ({ values: p.values, colour: 0 })),
    ...front.map((p) => ({ values: p.values, colour: 0.5 })),
    ...(reference ? [{ values: reference, colour: 1 }] : []),
  ];
  const dimensions = objectives.map((objective, i) => {
    const values = rows.map((row) => row.values[i]);
    return { label: objectiveLabel(objective), values };
  });
  return {
    data: [{
      type: "parcoords",
      meta: { role: "parcoords", front: front.length, dominated: dominated.length, reference: Boolean(reference) },
      dimensions,
      line: {
        color: rows.map((row) => row.colour), cmin: 0, cmax: 1,
        colorscale: [[0, DOMINATED_COLOUR], [0.5, FRONT_COLOUR], [1, REFERENCE_COLOUR]],
      },
      labelangle: 0,
      labelfont: { size: 12 },
    }],
    layout: baseLayout({ uirevision, margin: { l: 70, r: 70, t: 70, b: 30 } }),
  };
}

function padded(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return [0, 1];
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const pad = (high - low) * 0.05 || Math.abs(high) * 0.05 || 1;
  return [low - pad, high + pad];
}

/**
 * Several campaigns' fronts overlaid: exactly one trace per campaign (the reference
 * point is an annotation, not a trace). fronts: [{label, points: [{id, values}]}].
 */
export function compareFrontFigure({ objectives, fronts, reference, referenceSource }) {
  const three = objectives.length === 3;
  const coords = COORDS.slice(0, objectives.length);
  const data = fronts.map((entry, k) => {
    const sorted = three ? entry.points : [...entry.points].sort((a, b) => a.values[0] - b.values[0]);
    const colour = PALETTE[k % PALETTE.length];
    return {
      type: three ? "scatter3d" : sorted.length > WEBGL_ABOVE ? "scattergl" : "scatter",
      mode: three ? "markers" : "lines+markers",
      name: `${entry.label} (${entry.points.length})`,
      meta: { campaign_id: entry.campaignId },
      ...Object.fromEntries(coords.map((c, i) => [c, sorted.map((p) => p.values[i])])),
      customdata: sorted.map((p) => p.id),
      marker: { color: colour, size: three ? 4 : 8, symbol: three ? "circle" : ["circle", "square", "diamond", "triangle-up", "cross", "star"][k % 6] },
      line: three ? undefined : { color: colour, width: 1.5, shape: stairs(objectives[0].sense) },
      hovertemplate: hoverTemplate(objectives, coords, entry.label),
    };
  });
  const all = fronts.flatMap((entry) => entry.points.map((p) => p.values));
  if (reference) all.push(reference);
  const ranges = objectives.map((_, i) => padded(all.map((values) => values[i])));
  const note = reference ? `reference point ${vector(reference)}` : "";
  if (three) {
    const annotations = reference ? [{
      x: reference[0], y: reference[1], z: reference[2], text: note, showarrow: true,
      arrowcolor: REFERENCE_COLOUR, font: { color: REFERENCE_COLOUR }, ax: 30, ay: -30,
    }] : [];
    return {
      data,
      layout: baseLayout({
        margin: { l: 0, r: 0, t: 36, b: 0 },
        scene: {
          xaxis: axis(objectiveLabel(objectives[0]), { range: ranges[0] }),
          yaxis: axis(objectiveLabel(objectives[1]), { range: ranges[1] }),
          zaxis: axis(objectiveLabel(objectives[2]), { range: ranges[2] }),
          aspectmode: "cube",
          annotations,
        },
      }),
    };
  }
  const annotations = reference ? [{
    x: reference[0], y: reference[1], xref: "x", yref: "y", text: note, showarrow: true,
    arrowhead: 2, arrowcolor: REFERENCE_COLOUR, font: { color: REFERENCE_COLOUR }, ax: -40, ay: -30,
  }] : [];
  const shapes = reference ? [{
    type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel",
    xanchor: reference[0], yanchor: reference[1], x0: -6, x1: 6, y0: -6, y1: 6,
    line: { color: REFERENCE_COLOUR, width: 2 },
  }] : [];
  return {
    data,
    layout: baseLayout({
      xaxis: axis(objectiveLabel(objectives[0]), { range: ranges[0] }),
      yaxis: axis(objectiveLabel(objectives[1]), { range: ranges[1] }),
      annotations,
      shapes,
    }),
  };
}

/** One campaign's HV (under its own reference point) and front size against budget used. */
/** Attainment surfaces of two objectives, one colour per group of runs (an algorithm's
 *  seeds): the best run's dotted, the median solid, every run's dashed.
 *  groups: [{label, nRuns, surfaces: [{percentile, runs_needed, points: [[x, y]]}]}]. */
export function attainmentFigure({ objectives, groups }) {
  const data = groups.flatMap((group, k) => group.surfaces.map((surface) => {
    const sorted = [...surface.points].sort((a, b) => a[0] - b[0]);
    const dash = surface.runs_needed === 1 ? "dot" : surface.runs_needed === group.nRuns ? "dash" : "solid";
    return {
      type: "scatter",
      mode: "lines",
      name: `${group.label}: ${number(surface.percentile, 3)}% (${surface.runs_needed} of ${group.nRuns} runs)`,
      meta: { role: "attainment", group: group.label, percentile: surface.percentile },
      x: sorted.map((p) => p[0]),
      y: sorted.map((p) => p[1]),
      line: { color: PALETTE[k % PALETTE.length], width: dash === "solid" ? 2.5 : 1.5, dash, shape: stairs(objectives[0].sense) },
      hovertemplate: `${objectives[0].name}: %{x:.5g}<br>${objectives[1].name}: %{y:.5g}<extra>${group.label} ${number(surface.percentile, 3)}%</extra>`,
    };
  }));
  return {
    data,
    layout: baseLayout({
      xaxis: axis(objectiveLabel(objectives[0])),
      yaxis: axis(objectiveLabel(objectives[1])),
    }),
  };
}

export function historyFigure(history) {
  const points = history.points.filter((p) => p.hypervolume !== null);
  const largestFront = Math.max(1, ...history.points.map((p) => p.front_size));
  const unit = history.budget_unit.replace("_", " ");
  return {
    data: [
      {
        type: "scatter", mode: "lines+markers", name: "hypervolume", meta: { role: "hypervolume" },
        x: points.map((p) => p.budget_used), y: points.map((p) => p.hypervolume),
        line: { color: FRONT_COLOUR, width: 2, shape: "hv" }, marker: { size: 4, color: FRONT_COLOUR },
        hovertemplate: `${unit} used: %{x}<br>hypervolume: %{y:.6g}<extra></extra>`,
      },
      {
        type: "scatter", mode: "lines", name: "front size", yaxis: "y2", meta: { role: "front_size" },
        x: history.points.map((p) => p.budget_used), y: history.points.map((p) => p.front_size),
        line: { color: "#6b7486", width: 1.5, dash: "dot", shape: "hv" },
        hovertemplate: `${unit} used: %{x}<br>front size: %{y}<extra></extra>`,
      },
    ],
    layout: baseLayout({
      uirevision: "history",
      xaxis: axis(`${unit} used`),
      yaxis: axis("hypervolume"),
      yaxis2: axis("front size", {
        overlaying: "y", side: "right", showgrid: false, rangemode: "tozero",
        dtick: Math.max(1, Math.ceil(largestFront / 5)), tickformat: "d",
      }),
      margin: { l: 70, r: 60, t: 36, b: 55 },
      annotations: history.points.length ? [] : [empty("No metric snapshots yet")],
    }),
  };
}

/** HV curves of several campaigns under the comparison's common reference point. */
export function compareHistoryFigure(entries, labels) {
  const unit = (entries[0]?.budget_unit || "budget").replace("_", " ");
  return {
    data: entries.map((entry, k) => ({
      type: "scatter", mode: "lines", name: labels[k], meta: { campaign_id: entry.campaign_id },
      x: (entry.history || []).map((p) => p.budget_used),
      y: (entry.history || []).map((p) => p.hypervolume),
      line: { color: PALETTE[k % PALETTE.length], width: 2, shape: "hv", dash: ["solid", "dash", "dot", "dashdot"][Math.floor(k / PALETTE.length) % 4] },
      hovertemplate: `${unit} used: %{x}<br>hypervolume: %{y:.6g}<extra>${labels[k]}</extra>`,
    })),
    layout: baseLayout({
      xaxis: axis(`${unit} used`),
      yaxis: axis("hypervolume"),
    }),
  };
}

/** Optuna's slice plot: each evaluation's `value` (an objective or a constraint's value)
 *  against one parameter, coloured by seq; the front's ringed, infeasible ones crosses.
 *  points: [{id, x, y, seq, onFront, feasible}]; logScale: the parameter's axis is log;
 *  model: null, or the GP along the parameter ({values, mean, sd, inside}: GET /model-slice),
 *  drawn first as its mean and 95% band (error bars where the values are a choice's), the
 *  mean dotted where the parameter constraints do not hold. */
export function sliceFigure({ parameter, outcome, points, logScale, model }) {
  const trace = (items, role, name, marker) => ({
    type: items.length > WEBGL_ABOVE ? "scattergl" : "scatter", mode: "markers", name, meta: { role },
    x: items.map((p) => p.x), y: items.map((p) => p.y), customdata: items.map((p) => p.id),
    text: items.map((p) => String(p.seq)),
    marker: { ...marker, color: items.map((p) => p.seq), colorscale: "Viridis", cmin: 0,
      cmax: Math.max(1, ...points.map((p) => p.seq)) },
    hovertemplate: `evaluation %{customdata} (seq %{text})<br>${parameter}: %{x}<br>${outcome}: %{y:.5g}<extra>${name}</extra>`,
  });
  const feasible = points.filter((p) => p.feasible);
  const data = [
    trace(feasible.filter((p) => !p.onFront), "evaluations", "evaluations",
      { size: 7, opacity: 0.8, showscale: true, colorbar: { title: { text: "seq" }, thickness: 12 } }),
    trace(feasible.filter((p) => p.onFront), "front", "on the front",
      { size: 10, line: { width: 2, color: FRONT_COLOUR } }),
    trace(points.filter((p) => !p.feasible), "infeasible", "infeasible", { size: 8, symbol: "x" }),
  ].filter((t) => t.x.length);
  if (model) data.unshift(...modelTraces(model, parameter, outcome));
  return {
    data,
    layout: baseLayout({
      xaxis: axis(parameter, logScale ? { type: "log" } : {}),
      yaxis: axis(outcome),
      annotations: points.length ? [] : [empty("No evaluations yet")],
    }),
  };
}

function modelTraces({ values, mean, sd, inside }, parameter, outcome) {
  const outside = inside && inside.some((ok) => !ok);
  const hover = `${parameter}: %{x}<br>${outcome} predicted: %{y:.5g}<extra>model</extra>`;
  const line = { color: REFERENCE_COLOUR, width: 2 };
  if (values.some((v) => typeof v === "string")) {
    return [{
      type: "scatter", mode: "markers", name: "model (95%)", meta: { role: "model-mean" },
      x: values, y: mean, marker: { color: REFERENCE_COLOUR, size: 11, symbol: "diamond-open", line: { width: 2 } },
      error_y: { type: "data", array: sd.map((v) => 1.96 * v), color: REFERENCE_COLOUR }, hovertemplate: hover,
    }];
  }
  return [
    {
      type: "scatter", mode: "lines", name: "model 95% band", meta: { role: "model-band" },
      x: [...values, ...[...values].reverse()],
      y: [...mean.map((m, i) => m + 1.96 * sd[i]), ...mean.map((m, i) => m - 1.96 * sd[i]).reverse()],
      fill: "toself", fillcolor: "rgba(179, 51, 11, 0.12)", line: { width: 0 }, hoverinfo: "skip",
    },
    {
      type: "scatter", mode: "lines", name: "model mean", meta: { role: "model-mean" }, x: values,
      y: outside ? mean.map((m, i) => (inside[i] || inside[i - 1] || inside[i + 1] ? m : null)) : mean,
      line, hovertemplate: hover,
    },
    ...(outside ? [{
      type: "scatter", mode: "lines", name: "mean outside the parameter constraints", meta: { role: "model-outside" },
      x: values, y: mean.map((m, i) => (inside[i] ? null : m)),
      line: { ...line, dash: "dot" }, hovertemplate: hover,
    }] : []),
  ];
}

/** Ax's contour plot: one outcome's GP mean over two parameters (GET /model-contour), its
 *  sd on hover, the evaluations at their places (points: [{id, x, y}]) and the point the
 *  other parameters are held at. logX, logY: log axes. */
export function contourFigure({ result, outcome, points, held, logX, logY }) {
  return {
    data: [
      {
        type: "contour", meta: { role: "model" }, x: result.x_values, y: result.y_values,
        z: outcome.mean, customdata: outcome.sd, colorscale: "Viridis", ncontours: 20,
        colorbar: { title: { text: outcome.name }, thickness: 12 },
        hovertemplate: `${result.x}: %{x}<br>${result.y}: %{y}<br>${outcome.name}: %{z:.5g} ± %{customdata:.3g}<extra>model</extra>`,
      },
      {
        type: "scatter", mode: "markers", name: "evaluations", meta: { role: "evaluations" },
        x: points.map((p) => p.x), y: points.map((p) => p.y), customdata: points.map((p) => p.id),
        marker: { color: "#ffffff", size: 6, line: { color: "#1d2330", width: 1 } },
        hovertemplate: `evaluation %{customdata}<br>${result.x}: %{x}<br>${result.y}: %{y}<extra></extra>`,
      },
      {
        type: "scatter", mode: "markers", name: `held at evaluation ${result.at_evaluation_id}`, meta: { role: "held" },
        x: [held.x], y: [held.y], marker: { color: REFERENCE_COLOUR, size: 13, symbol: "x-thin-open", line: { width: 3, color: REFERENCE_COLOUR } },
        hoverinfo: "skip",
      },
    ],
    layout: baseLayout({
      xaxis: axis(result.x, logX ? { type: "log" } : {}),
      yaxis: axis(result.y, logY ? { type: "log" } : {}),
    }),
  };
}

/** Leave-one-out predictions of one outcome (GET /model-fit) against its measurements,
 *  each with its 95% interval, and the diagonal a perfect model would lie on. */
export function fitFigure(outcome) {
  const points = outcome.points;
  const values = points.flatMap((p) => [p.observed, p.predicted]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  return {
    data: [
      {
        type: "scatter", mode: "lines", name: "predicted = measured", meta: { role: "diagonal" },
        x: [low, high], y: [low, high], line: { color: DOMINATED_COLOUR, dash: "dash", width: 1.5 },
        hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "markers", name: "evaluations", meta: { role: "evaluations" },
        x: points.map((p) => p.observed), y: points.map((p) => p.predicted),
        customdata: points.map((p) => p.evaluation_id),
        error_y: { type: "data", array: points.map((p) => 1.959963984540054 * p.sd), color: SEM_COLOUR, thickness: 1 },
        marker: { color: FRONT_COLOUR, size: 7 },
        hovertemplate: `evaluation %{customdata}<br>measured: %{x:.5g}<br>predicted: %{y:.5g}<extra></extra>`,
      },
    ],
    layout: baseLayout({
      xaxis: axis(`${outcome.name} measured`),
      yaxis: axis(`${outcome.name} predicted from the others`),
    }),
  };
}

/** One outcome's Sobol indices (GET /importance) as horizontal bars, the parameters in
 *  order of their total index, each with its Monte Carlo standard error. */
export function importanceFigure(result, outcome) {
  // under parameter constraints the Shapley effects inside them come first
  const ranked = outcome.shapley ? "shapley" : "total";
  const order = result.parameters.map((_, i) => i)
    .sort((a, b) => (outcome[ranked]?.[a] ?? 0) - (outcome[ranked]?.[b] ?? 0)); // largest on top
  const names = order.map((i) => result.parameters[i]);
  const bars = (key, label, colour) => ({
    type: "bar", orientation: "h", name: label, meta: { role: key },
    y: names, x: order.map((i) => outcome[key]?.[i] ?? 0),
    error_x: { type: "data", array: order.map((i) => outcome[`${key}_se`]?.[i] ?? 0), color: SEM_COLOUR, thickness: 1 },
    marker: { color: colour },
    hovertemplate: `%{y}: %{x:.3f} ${label}<extra></extra>`,
  });
  return {
    data: outcome.total === null ? [] : [
      ...(outcome.shapley ? [bars("shapley", "Shapley, inside the constraints", KNOWN_COLOUR)] : []),
      bars("total", "total", FRONT_COLOUR), bars("first_order", "first order", PALETTE[4])],
    layout: baseLayout({
      barmode: "group",
      xaxis: axis(`share of ${outcome.name}'s variance`, { range: [0, 1.05] }),
      yaxis: axis("", { automargin: true }),
      margin: { l: 110, r: 20, t: 36, b: 55 },
      annotations: outcome.total === null ? [empty(`${outcome.name} does not vary in the model`)] : [],
    }),
  };
}

// A one-pixel line needs darker shades than the front plot's markers.
const LINE_DOMINATED_COLOUR = "#7b8496";
const LINE_INFEASIBLE_COLOUR = "#c98b8b";

/**
 * Every evaluation as one line across the parameters and the outcomes (Optuna's and Ax's
 * parallel coordinates). axes: [{label, values, range, tickvals, ticktext,
 * constraintrange}], each value on the scale drawn; colour: {label, values} to colour the
 * lines by, or null to colour the front, dominated and infeasible lines as the front plot
 * does (kinds: one of those per line).
 */
export function parallelFigure({ axes, colour, kinds }) {
  const line = colour
    ? { color: colour.values, colorscale: "Viridis", showscale: true,
        colorbar: { title: { text: colour.label, side: "right" }, thickness: 14 } }
    : { color: kinds.map((kind) => ({ infeasible: 0, dominated: 0.5, front: 1 }[kind])), cmin: 0, cmax: 1,
        colorscale: [[0, LINE_INFEASIBLE_COLOUR], [0.5, LINE_DOMINATED_COLOUR], [1, FRONT_COLOUR]] };
  const dimensions = axes.map(({ label, values, range, tickvals, ticktext, constraintrange }) => ({
    label, values, ...(range ? { range } : {}), ...(tickvals ? { tickvals, ticktext } : {}),
    ...(constraintrange ? { constraintrange } : {}),
  }));
  return {
    data: [{
      type: "parcoords", meta: { role: "parallel", lines: kinds.length, colour: colour?.label ?? "front" },
      dimensions, line, labelangle: -20, labelside: "top", labelfont: { size: 12 },
      unselected: { line: { color: "#e3e7ee", opacity: 0.6 } }, // outside a range dragged
    }],
    layout: baseLayout({ margin: { l: 60, r: colour ? 90 : 60, t: 90, b: 30 } }),
  };
}

// What became of a suggestion, by colour (Optuna's timeline: complete, fail, running).
const SUGGESTION_COLOURS = { told: FRONT_COLOUR, failed: REFERENCE_COLOUR, pending: PALETTE[4], expired: DOMINATED_COLOUR };

/** An ask/tell campaign's suggestions on a time axis (Optuna's timeline plot): each a
 *  bar from when it was handed out to when it was told, failed or expired (a pending
 *  one up to `now`), one trace per status. */
export function timelineFigure(suggestions, now) {
  const end = (s) => ({ told: s.told_at, failed: s.failed_at, expired: s.expires_at }[s.status] ?? now);
  const data = Object.entries(SUGGESTION_COLOURS).map(([status, colour]) => {
    const mine = suggestions.filter((s) => s.status === status);
    const spans = mine.map((s) => Math.max(new Date(end(s)) - new Date(s.created_at), 0));
    return {
      type: "bar", orientation: "h", name: status, meta: { role: "timeline", status },
      y: mine.map((s) => `#${s.id}`), base: mine.map((s) => localTime(s.created_at)), x: spans,
      customdata: mine.map((s, i) => [s.id, (spans[i] / 1000).toFixed(1)]),
      marker: { color: colour },
      hovertemplate: `suggestion #%{customdata[0]}: ${status} after %{customdata[1]} s<extra></extra>`,
    };
  }).filter((trace) => trace.y.length);
  return {
    data,
    layout: baseLayout({
      barmode: "overlay",
      xaxis: axis("", { type: "date" }),
      yaxis: axis("suggestion", { type: "category", autorange: "reversed", showticklabels: suggestions.length <= 40 }),
      margin: { l: 70, r: 20, t: 36, b: 40 },
    }),
  };
}

/** An ISO timestamp as Plotly's date axis takes it: local time (as the tables show
 *  times), to the millisecond, without a zone (which Plotly does not read). */
function localTime(iso) {
  const date = new Date(iso);
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Draw (or redraw, keeping zoom and camera through `uirevision`) a figure. */
export function draw(container, figure) {
  return Plotly.react(container, figure.data, figure.layout, CONFIG);
}
