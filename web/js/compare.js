// Compare campaigns on one problem: fronts overlaid (one trace per campaign), HV curves
// under one common reference point (GET /compare?history=true), a summary table, and
// for an algorithm with several campaigns (seeds) its attainment surfaces (GET /attainment).

import { api } from "./api.js";
import { attainmentFigure, compareFrontFigure, compareHistoryFigure, draw } from "./plots.js";
import {
  ACTIVE, clearError, el, markCurrentNav, number, objectiveLabel, poll, problemLabel,
  showError, sortableTable, statusBadge, vector,
} from "./ui.js";

const REFRESH_SECONDS = 3;

const form = document.getElementById("compare-form");
const problemSelect = document.getElementById("compare-problem");
const referenceInput = document.getElementById("compare-reference");
const campaignList = document.getElementById("compare-campaigns");
const errorBox = document.getElementById("compare-error");
const statusLine = document.getElementById("compare-status");
const objectivePicker = document.getElementById("compare-objectives");
const results = document.getElementById("results");

let groups = new Map(); // problem key -> [campaign]
const state = { ids: [], reference: "", shown: null, campaigns: [], poller: null, active: false };

markCurrentNav("compare");
start();

function problemKey(campaign) {
  return `${problemLabel(campaign.problem)} · ${campaign.objectives.map((o) => o.name).join(", ")}`;
}

async function start() {
  if (typeof Plotly === "undefined") {
    showError(errorBox, "Plotly.js did not load (GET /ui/vendor/plotly.min.js): install the 'plotly' Python package on the server.");
  }
  let campaigns;
  try {
    campaigns = await allCampaigns();
  } catch (error) {
    showError(errorBox, error);
    return;
  }
  groups = new Map();
  for (const campaign of campaigns) {
    const key = problemKey(campaign);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(campaign);
  }
  const keys = [...groups.keys()].sort();
  problemSelect.replaceChildren(...keys.map((key) => el("option", { value: key },
    `${key} — ${groups.get(key).length} campaign${groups.get(key).length === 1 ? "" : "s"}`)));
  if (!keys.length) {
    statusLine.textContent = "No campaigns yet.";
    return;
  }
  const params = new URLSearchParams(location.search);
  const wanted = (params.get("campaigns") || "").split(",").filter((part) => /^\d+$/.test(part)).map(Number);
  referenceInput.value = params.get("reference_point") || "";
  const shownNames = params.get("objectives") ? params.get("objectives").split(",") : null;
  const first = campaigns.find((c) => wanted.includes(c.id));
  problemSelect.value = first ? problemKey(first) : keys.reduce((a, b) => (groups.get(b).length > groups.get(a).length ? b : a));
  fillCampaigns(new Set(wanted));
  problemSelect.addEventListener("change", () => fillCampaigns(new Set()));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const ids = [...campaignList.querySelectorAll("input:checked")].map((input) => Number(input.value))
      .sort((a, b) => a - b);
    compareNow(ids, referenceInput.value.trim(), null);
  });
  if (wanted.length >= 2) compareNow(wanted, referenceInput.value.trim(), shownNames);
  else if (wanted.length === 1) statusLine.textContent = "Tick at least one more campaign to compare with.";
}

async function allCampaigns() {
  const items = [];
  for (;;) {
    const page = await api.campaigns({ limit: 500, offset: items.length });
    items.push(...page.items);
    if (!page.items.length || items.length >= page.total) return items;
  }
}

function fillCampaigns(checked) {
  const campaigns = groups.get(problemSelect.value) || [];
  campaignList.replaceChildren(...campaigns.map((c) => el("li", {},
    el("label", {},
      el("input", { type: "checkbox", value: String(c.id), checked: checked.has(c.id) }),
      el("span", {}, `#${c.id} ${c.name || ""}`, " ", el("span", { class: "muted small" }, `${c.algorithm}, seed ${c.seed}, `), statusBadge(c.status))))));
}

function label(campaign) {
  return `#${campaign.campaign_id ?? campaign.id} ${campaign.name || ""} (${campaign.algorithm})`;
}

async function compareNow(ids, reference, shownNames) {
  if (ids.length < 2) {
    statusLine.textContent = "Tick at least two campaigns.";
    return;
  }
  state.ids = ids;
  state.reference = reference;
  state.shown = null;
  const campaign = (groups.get(problemSelect.value) || []).find((c) => c.id === ids[0]);
  if (campaign && shownNames) {
    const indices = shownNames.map((name) => campaign.objectives.findIndex((o) => o.name === name));
    if (indices.every((i) => i >= 0) && (indices.length === 2 || indices.length === 3)) state.shown = indices;
  }
  if (campaign && state.shown === null) state.shown = campaign.objectives.slice(0, 3).map((_, i) => i);
  buildObjectivePicker(campaign ? campaign.objectives : []);
  writeUrl();
  if (state.poller) state.poller.stop();
  state.poller = poll(refresh, REFRESH_SECONDS, () => state.active);
}

function writeUrl() {
  const params = new URLSearchParams({ campaigns: state.ids.join(",") });
  if (state.reference) params.set("reference_point", state.reference);
  history.replaceState(null, "", `?${params.toString().replaceAll("%2C", ",")}`);
}

function buildObjectivePicker(objectives) {
  objectivePicker.replaceChildren(el("legend", {}, "Objectives shown"));
  objectivePicker.hidden = objectives.length <= 2;
  objectives.forEach((objective, index) => {
    const box = el("input", { type: "checkbox", value: String(index), checked: state.shown.includes(index) });
    box.addEventListener("change", () => {
      const chosen = [...objectivePicker.querySelectorAll("input:checked")].map((input) => Number(input.value));
      if (chosen.length < 2 || chosen.length > 3) {
        box.checked = !box.checked;
        document.getElementById("compare-front-note").textContent = "Overlay two or three objectives.";
        return;
      }
      state.shown = chosen;
      Plotly.purge(document.getElementById("compare-front-plot"));
      refresh();
    });
    objectivePicker.append(el("label", {}, box, objectiveLabel(objective)));
  });
}

async function refresh() {
  statusLine.textContent = "Loading…";
  let comparison;
  let fronts;
  try {
    comparison = await api.compare(state.ids, { referencePoint: state.reference || null, history: true });
    const all = comparison.objectives;
    const subset = state.shown.length < all.length ? state.shown.map((i) => all[i].name) : null;
    fronts = await Promise.all(state.ids.map((id) => api.front(id, subset)));
    clearError(errorBox);
  } catch (error) {
    statusLine.textContent = "";
    showError(errorBox, error);
    results.hidden = true;
    state.active = false;
    throw error;
  }
  statusLine.textContent = "";
  state.active = comparison.campaigns.some((c) => ACTIVE.includes(c.status));
  results.hidden = false;
  document.getElementById("picker").open = false;
  document.getElementById("picker-summary").textContent =
    `Comparing ${state.ids.length} campaigns on ${problemSelect.value} — change`;
  render(comparison, fronts);
  await renderAttainment(comparison);
}

/** One group per algorithm with two or more of the campaigns: its best, median and
 *  worst attainment surfaces, drawn for two objectives (three: the API gives them). */
async function renderAttainment(comparison) {
  const section = document.getElementById("attainment-section");
  const byAlgorithm = new Map();
  for (const c of comparison.campaigns) {
    if (!byAlgorithm.has(c.algorithm)) byAlgorithm.set(c.algorithm, []);
    byAlgorithm.get(c.algorithm).push(c.campaign_id);
  }
  const seeded = [...byAlgorithm].filter(([, ids]) => ids.length >= 2);
  section.hidden = seeded.length === 0 || comparison.objectives.length > 3;
  if (section.hidden) return;
  const note = document.getElementById("attainment-note");
  const plot = document.getElementById("attainment-plot");
  if (comparison.objectives.length === 3) {
    plot.hidden = true;
    note.replaceChildren("Attainment surfaces of three objectives are not drawn here; ",
      ...seeded.flatMap(([algorithm, ids], k) => [k ? ", " : "", el("code", {}, `GET /api/v1/attainment?campaigns=${ids.join(",")}`), ` (${algorithm})`]),
      " gives their corner points.");
    return;
  }
  plot.hidden = false;
  let groups;
  try {
    groups = await Promise.all(seeded.map(async ([algorithm, ids]) => ({
      label: algorithm, nRuns: ids.length, surfaces: (await api.attainment(ids)).surfaces,
    })));
  } catch (error) {
    section.hidden = true;
    showError(errorBox, error);
    return;
  }
  draw(plot, attainmentFigure({ objectives: comparison.objectives, groups }));
  note.textContent = "For each algorithm with two or more of these campaigns (its runs): " +
    "dotted, what its best run reached; solid, what at least half of its runs reached; " +
    "dashed, what every run reached (the empirical attainment function, exact).";
}

function render(comparison, fronts) {
  const shownObjectives = fronts[0].objectives;
  const indices = shownObjectives.map((o) => comparison.objectives.findIndex((x) => x.name === o.name));
  const reference = indices.map((i) => comparison.reference_point[i]);
  const labels = comparison.campaigns.map(label);
  draw(document.getElementById("compare-front-plot"), compareFrontFigure({
    objectives: shownObjectives,
    fronts: fronts.map((front, k) => ({
      campaignId: front.campaign_id,
      label: labels[k],
      points: front.points.map((p) => ({ id: p.evaluation_id, values: p.objectives })),
    })),
    reference,
    referenceSource: comparison.reference_point_source,
  }));
  draw(document.getElementById("compare-hv-plot"), compareHistoryFigure(comparison.campaigns, labels));
  const ref = `${vector(comparison.reference_point)} (${comparison.reference_point_source})`;
  document.getElementById("compare-summary").replaceChildren(
    "Common reference point ", el("strong", { id: "common-reference" }, ref),
    `: every hypervolume below is computed under it, so they compare. Objectives: ${comparison.objectives.map(objectiveLabel).join(", ")}.`);
  document.getElementById("compare-front-note").textContent =
    `One trace per campaign; the ring marks the reference point${shownObjectives.length < comparison.objectives.length ? " (fronts projected on the objectives shown)" : ""}.`;
  document.getElementById("compare-hv-note").textContent =
    `Each campaign's hypervolume after every recorded batch, recomputed under ${ref}.`;
  const table = sortableTable(document.getElementById("compare-table"), [
    { key: "campaign", label: "campaign", value: (c) => c.campaign_id, cell: (c) => el("a", { href: `campaign.html?id=${c.campaign_id}` }, label(c)) },
    { key: "algorithm", label: "algorithm", value: (c) => c.algorithm },
    { key: "status", label: "status", value: (c) => c.status, cell: (c) => statusBadge(c.status) },
    { key: "hv", label: "final hypervolume", value: (c) => c.hypervolume, cell: (c) => number(c.hypervolume), numeric: true },
    { key: "front", label: "front size", value: (c) => c.front_size, numeric: true },
    { key: "counted", label: "front points counted", value: (c) => c.front_points_counted, numeric: true },
    { key: "evaluations", label: "evaluations", value: (c) => c.n_evaluations, numeric: true },
    { key: "budget", label: "budget used", value: (c) => c.budget_used, cell: (c) => `${number(c.budget_used)} ${(c.budget_unit || "").replace("_", " ")}`, numeric: true },
  ], { rowAttributes: (c) => ({ dataset: { campaignId: c.campaign_id } }) });
  table.setRows(comparison.campaigns);
}
