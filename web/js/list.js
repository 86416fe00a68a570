// The campaign list: filters, live status and progress (polled every 2 s), and the
// selection of campaigns to compare.

import { api } from "./api.js";
import {
  clearError, dateTime, el, markCurrentNav, number, poll, problemLabel, problemParams,
  progressBar, shortDateTime, showError, statusBadge, vector,
} from "./ui.js";

const PAGE_SIZE = 50;
const REFRESH_SECONDS = 2;

const filters = document.getElementById("filters");
const tbody = document.getElementById("campaigns");
const errorBox = document.getElementById("list-error");
const compareButton = document.getElementById("compare-selected");
const compareHint = document.getElementById("compare-hint");
const selected = new Map(); // campaign id -> problem id
const rows = new Map(); // campaign id -> {tr, cells}
let offset = 0;
let total = 0;
let registry = null;
let latestRequest = 0; // a slower, older answer never overwrites a newer one

markCurrentNav("list");
readFiltersFromUrl();
fillFilterChoices();
const poller = poll(refresh, REFRESH_SECONDS);

filters.addEventListener("change", () => {
  offset = 0;
  writeFiltersToUrl();
  poller.restart();
});
filters.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("previous-page").addEventListener("click", () => {
  offset = Math.max(0, offset - PAGE_SIZE);
  poller.restart();
});
document.getElementById("next-page").addEventListener("click", () => {
  if (offset + PAGE_SIZE < total) offset += PAGE_SIZE;
  poller.restart();
});
compareButton.addEventListener("click", () => {
  location.assign(`compare.html?campaigns=${[...selected.keys()].join(",")}`);
});

function currentFilters() {
  const data = new FormData(filters);
  return { status: data.get("status"), algorithm: data.get("algorithm"), problem: data.get("problem") };
}

function readFiltersFromUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of ["status", "algorithm", "problem"]) {
    const value = params.get(name);
    if (value) ensureOption(filters.elements[name], value).selected = true;
  }
}

function writeFiltersToUrl() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(currentFilters())) if (value) params.set(key, value);
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function ensureOption(select, value) {
  for (const option of select.options) if (option.value === value) return option;
  const option = el("option", { value }, value);
  select.append(option);
  return option;
}

async function fillFilterChoices() {
  try {
    registry = await api.registry();
    for (const algorithm of registry.algorithms) ensureOption(filters.elements.algorithm, algorithm.name);
    const ids = [...new Set(registry.problems.map((p) => p.id))].sort();
    for (const id of ids) ensureOption(filters.elements.problem, id);
  } catch (error) {
    showError(errorBox, error);
  }
}

async function refresh() {
  const request = ++latestRequest;
  let page;
  try {
    page = await api.campaigns({ ...currentFilters(), limit: PAGE_SIZE, offset });
  } catch (error) {
    if (request === latestRequest) showError(errorBox, error);
    throw error;
  }
  if (request !== latestRequest) return;
  clearError(errorBox);
  total = page.total;
  render(page.items);
  const first = page.items.length ? offset + 1 : 0;
  document.getElementById("page-info").textContent =
    `${first}–${offset + page.items.length} of ${total} campaign${total === 1 ? "" : "s"}`;
  document.getElementById("previous-page").disabled = offset === 0;
  document.getElementById("next-page").disabled = offset + PAGE_SIZE >= total;
  document.getElementById("updated").textContent = `updated ${dateTime(new Date().toISOString()).slice(11)}`;
}

function render(campaigns) {
  const seen = new Set();
  campaigns.forEach((campaign, index) => {
    seen.add(campaign.id);
    let row = rows.get(campaign.id);
    if (!row) {
      row = createRow(campaign);
      rows.set(campaign.id, row);
    }
    updateRow(row, campaign);
    if (tbody.children[index] !== row.tr) tbody.insertBefore(row.tr, tbody.children[index] || null);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  document.getElementById("empty").hidden = campaigns.length > 0;
}

const COLUMNS = ["select", "id", "name", "algorithm", "problem", "status", "progress", "evaluations",
  "hypervolume", "front size", "started", "finished"];

function createRow(campaign) {
  const cells = Object.fromEntries(COLUMNS.map((label) => [label, el("td", {
    "data-label": label, class: ["id", "evaluations", "hypervolume", "front size"].includes(label) ? "num" : null,
  })]));
  const checkbox = el("input", {
    type: "checkbox", "aria-label": `select campaign ${campaign.id} for comparison`,
    onchange: (event) => {
      if (event.target.checked) selected.set(campaign.id, problemLabel(campaign.problem));
      else selected.delete(campaign.id);
      updateCompareButton();
    },
  });
  checkbox.checked = selected.has(campaign.id);
  cells.select.append(checkbox);
  cells.id.textContent = campaign.id;
  const tr = el("tr", { dataset: { campaignId: campaign.id } }, ...Object.values(cells));
  return { tr, cells, key: null };
}

function updateRow(row, campaign) {
  // Rebuild the cells only when something shown changed, so focus and selection stay.
  const key = JSON.stringify([registry !== null, campaign.name, campaign.status, campaign.progress, campaign.hypervolume,
    campaign.front_size, campaign.started_at, campaign.finished_at, campaign.n_evaluations]);
  if (row.key === key) return;
  row.key = key;
  const { cells } = row;
  row.tr.dataset.status = campaign.status;
  cells.name.replaceChildren(el("a", { href: `campaign.html?id=${campaign.id}` }, campaign.name || `campaign ${campaign.id}`));
  cells.algorithm.textContent = campaign.algorithm;
  const params = problemParams(campaign.problem, registry);
  cells.problem.replaceChildren(el("span", {}, problemLabel(campaign.problem),
    params ? el("span", { class: "muted" }, ` ${params}`) : ""));
  cells.status.replaceChildren(statusBadge(campaign.status));
  if (campaign.error) cells.status.append(el("span", { class: "visually-hidden" }, `: ${campaign.error}`));
  cells.status.title = campaign.error || campaign.message || "";
  const unit = campaign.budget.unit.replace("_", " ");
  cells.progress.replaceChildren(progressBar(campaign.progress, `progress of campaign ${campaign.id}`));
  cells.progress.title = `${number(campaign.budget.used)} of ${number(campaign.budget.amount)} ${unit}`;
  cells.evaluations.textContent = `${campaign.n_evaluations}`;
  cells.hypervolume.textContent = number(campaign.hypervolume);
  cells.hypervolume.title = campaign.reference_point
    ? `reference point ${vector(campaign.reference_point)} (${campaign.reference_point_source})` : "";
  cells["front size"].textContent = campaign.front_size;
  for (const [label, value] of [["started", campaign.started_at], ["finished", campaign.finished_at]]) {
    cells[label].replaceChildren(value ? el("time", { datetime: value, title: dateTime(value) }, shortDateTime(value)) : "—");
  }
}

function updateCompareButton() {
  const problems = new Set(selected.values());
  compareButton.textContent = `Compare selected (${selected.size})`;
  compareButton.disabled = selected.size < 2 || problems.size !== 1;
  compareHint.textContent = problems.size > 1
    ? "The selected campaigns are on different problems: compare campaigns on the same problem."
    : "Tick two or more campaigns on the same problem to compare them.";
}
