// An ask/tell campaign's suggestions (GET /campaigns/{id}/suggestions): how many are
// pending, told, expired or failed, the latest ones on a timeline, and with their
// parameters and what became of each: the evaluation it was told as, the reason it
// failed, or when it expires.

import { api } from "./api.js";
import { draw, timelineFigure } from "./plots.js";
import { el, number, shortDateTime, sortableTable, statusBadge } from "./ui.js";

// The latest this many suggestions are listed; the counts cover them all.
const LISTED = 500;
const STATUSES = ["pending", "told", "failed", "expired"];

/** Fill `section` (its heading, note and table) with the campaign's suggestions;
 *  `showEvaluation(id)` opens the evaluation a told suggestion became. */
export async function renderSuggestions(campaignId, section, showEvaluation) {
  let page = await api.suggestions(campaignId, { limit: LISTED });
  const { counts, total } = page;
  if (total > LISTED) page = await api.suggestions(campaignId, { limit: LISTED, offset: total - LISTED });
  section.hidden = false;
  section.querySelector("h2").textContent = `Suggestions (${total})`;
  const summary = STATUSES.map((status) => `${counts[status]} ${status}`).join(" · ");
  await draw(section.querySelector("#suggestions-timeline"), timelineFigure(page.items, new Date().toISOString()));
  section.querySelector(".plot-note").textContent =
    `${summary}. A failed suggestion frees its share of the budget, and the model learns to avoid where failures lie` +
    (total > LISTED ? `; the latest ${LISTED} are listed (mofront suggestions ${campaignId} prints all).` : ".");
  const keys = [...new Set(page.items.flatMap((s) => Object.keys(s.params)))];
  const columns = [
    { key: "id", label: "suggestion", value: (s) => s.id, cell: (s) => `#${s.id}`, numeric: true },
    { key: "status", label: "status", value: (s) => s.status, cell: (s) => statusBadge(s.status) },
    ...keys.map((key) => ({
      key: `p:${key}`, label: key, value: (s) => s.params[key],
      cell: (s) => (typeof s.params[key] === "number" ? number(s.params[key], 8) : String(s.params[key])),
      numeric: page.items.every((s) => typeof s.params[key] === "number"),
    })),
    { key: "outcome", label: "outcome", value: (s) => outcomeText(s), cell: (s) => outcome(s, showEvaluation) },
    { key: "created", label: "handed out", value: (s) => s.created_at, cell: (s) => shortDateTime(s.created_at) },
  ];
  const table = sortableTable(section.querySelector("table"), columns, {
    rowAttributes: (s) => ({ dataset: { suggestionId: s.id, status: s.status } }),
  });
  table.setRows(page.items);
}

function outcomeText(suggestion) {
  if (suggestion.status === "failed") return suggestion.reason || "failed (no reason given)";
  if (suggestion.status === "told") return `evaluation #${suggestion.evaluation_id}`;
  if (suggestion.status === "pending") return `expires ${shortDateTime(suggestion.expires_at)}`;
  return `expired ${shortDateTime(suggestion.expires_at)}`;
}

function outcome(suggestion, showEvaluation) {
  if (suggestion.status === "told" && suggestion.evaluation_id !== null) {
    return el("button", { type: "button", class: "link", onclick: () => showEvaluation(suggestion.evaluation_id),
      "aria-label": `show evaluation ${suggestion.evaluation_id}` }, `evaluation #${suggestion.evaluation_id}`);
  }
  return outcomeText(suggestion);
}
