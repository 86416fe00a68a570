// Small DOM and formatting helpers shared by the viewer's pages.

/** el("a", {href: "x", class: "y"}, "text", child…): an element; `on*` attributes
 *  given a function become listeners, `dataset` an object of data-* values. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "class") {
      node.className = value;
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function number(value, digits = 6) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-4)) return value.toExponential(digits - 2);
  return String(Number(value.toPrecision(digits)));
}

/** A parameter's value as shown: a number to 8 digits, a choice as it is. */
export function paramText(value) {
  if (typeof value === "number") return number(value, 8);
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function vector(values, digits = 5) {
  if (!values) return "—";
  return `(${values.map((v) => number(v, digits)).join(", ")})`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Compact: the time for today, "Nov 23 14:05" this year, else the date. */
export function shortDateTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const now = new Date();
  const full = dateTime(iso);
  if (date.toDateString() === now.toDateString()) return full.slice(11);
  if (date.getFullYear() === now.getFullYear()) {
    return `${date.toLocaleString("en", { month: "short" })} ${date.getDate()} ${full.slice(11, 16)}`;
  }
  return full.slice(0, 10);
}

export function duration(startIso, endIso) {
  if (!startIso) return "";
  const seconds = Math.max(0, ((endIso ? new Date(endIso) : new Date()) - new Date(startIso)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export const ACTIVE = ["queued", "running"];

export function statusBadge(status) {
  return el("span", { class: `status status-${status}`, dataset: { status } }, status);
}

export function progressBar(fraction, label) {
  const percent = Math.round((fraction || 0) * 1000) / 10;
  return el("div", { class: "progress" },
    el("progress", { max: "1", value: String(fraction || 0), "aria-label": label || "progress" }),
    el("span", {}, `${percent}%`));
}

/** "name (minimize)": how every axis and column names an objective. */
export function objectiveLabel(objective) {
  return `${objective.name} (${objective.sense})`;
}

/** A campaign's parameters in declaration order: an external problem's spec, else the
 *  evaluations' own (a test function's x0, x1, …). */
export function parameterNames(campaign, evaluations) {
  const declared = campaign.problem.parameters;
  if (declared) return declared.map((p) => p.name);
  return Object.keys(evaluations[0]?.params || {});
}

/** How the views name outcome constraint i: as declared, else by its slack's index. */
export function constraintLabel(campaign, i) {
  const declared = campaign.problem.constraints || [];
  return declared[i]?.name ? `${declared[i].name} (constraint)` : `c${i} (constraint slack)`;
}

/** Outcome constraint i of an evaluation as the views show it: the value told where the
 *  spec bounds the constraint, else its slack. */
export function constraintValue(evaluation, i) {
  return (evaluation.meta?.constraint_values ?? evaluation.constraints)?.[i];
}

export function problemLabel(problem) {
  return problem?.id || problem?.kind || "?";
}

/** The problem's parameters other than kind and id, as "dim=4, num_objectives=2",
 *  leaving out those equal to the defaults in the registry's schema when given one. */
export function problemParams(problem, registry) {
  const entry = registry?.problems.find((p) => p.kind === problem?.kind && p.id === problem?.id);
  const defaults = entry?.params_schema?.properties || {};
  return Object.entries(problem || {})
    .filter(([key]) => key !== "kind" && key !== "id")
    .filter(([key, value]) => !(key in defaults && JSON.stringify(defaults[key].default) === JSON.stringify(value)))
    .filter(([, value]) => !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => `${key}=${describeValue(value)}`)
    .join(", ");
}

/** A parameter value in a few characters: lists and objects by their size. */
function describeValue(value) {
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === "string")) return `[${value.join("; ")}]`; // constraints
    const names = value.map((item) => (item && typeof item === "object" ? boundedName(item) : null));
    return names.every(Boolean) ? `[${names.join(", ")}]` : `[${value.length} items]`;
  }
  if (value && typeof value === "object") return "{…}";
  return String(value);
}

/** A declared item by its name; an outcome constraint with its bound ("memory <= 16",
 *  "a + 2*b <= 10"). */
function boundedName(item) {
  const bounded = item.terms || (item.op !== undefined && !(item.op === ">=" && item.bound === 0));
  return bounded ? `${item.name} ${item.op} ${item.bound}` : item.name;
}

export function showError(container, error) {
  container.replaceChildren(el("div", { class: "alert", role: "alert" }, String(error.message || error)));
  container.hidden = false;
}

export function clearError(container) {
  container.replaceChildren();
  container.hidden = true;
}

export function download(filename, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function csvCell(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Run `task` now and then every `seconds` after each run finishes, while `active()`
 *  holds; no requests while the tab is hidden, and one at once when it shows again.
 *  `restart()` runs it now and drops the schedule of any run still in flight. */
export function poll(task, seconds, active = () => true) {
  let timer = null;
  let generation = 0;
  let stopped = false;
  async function tick(mine) {
    timer = null;
    if (stopped || mine !== generation) return;
    if (!document.hidden) {
      try {
        await task();
      } catch {
        // the page shows its own error; polling goes on, so it recovers by itself
      }
    }
    if (!stopped && mine === generation && active()) timer = setTimeout(() => tick(mine), seconds * 1000);
  }
  function restart() {
    generation += 1;
    if (timer) clearTimeout(timer);
    stopped = false;
    tick(generation);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped && active()) restart();
  });
  tick(generation);
  return {
    restart,
    stop() {
      stopped = true;
      generation += 1;
      if (timer) clearTimeout(timer);
    },
  };
}

/** Make a table sortable by clicking its column headers (real buttons, so the keyboard
 *  works). columns: [{key, label, value(row) -> sortable, cell(row) -> Node|string, numeric}] */
export function sortableTable(table, columns, { onRender, rowAttributes } = {}) {
  let rows = [];
  let sortKey = null;
  let ascending = true;
  const headRow = el("tr");
  const head = el("thead", {}, headRow);
  const body = el("tbody");
  table.replaceChildren(head, body);
  for (const column of columns) {
    const th = el("th", { scope: "col", class: column.numeric ? "num" : null, dataset: { key: column.key } });
    if (column.sortable === false) {
      th.append(column.label);
    } else {
      th.append(el("button", { type: "button", class: "sort", onclick: () => sortBy(column.key) }, column.label));
    }
    headRow.append(th);
  }
  function sortBy(key) {
    ascending = sortKey === key ? !ascending : true;
    sortKey = key;
    render();
  }
  function render() {
    let shown = rows;
    if (sortKey !== null) {
      const column = columns.find((c) => c.key === sortKey);
      const direction = ascending ? 1 : -1;
      shown = [...rows].sort((a, b) => compare(column.value(a), column.value(b)) * direction);
    }
    for (const th of headRow.children) {
      if (th.dataset.key === sortKey) th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    body.replaceChildren(...shown.map((row) => {
      const cells = columns.map((column) => el("td",
        { class: column.numeric ? "num" : null, "data-label": column.label },
        column.cell ? column.cell(row) : String(column.value(row) ?? "")));
      return el("tr", rowAttributes ? rowAttributes(row) : {}, ...cells);
    }));
    if (onRender) onRender(body);
  }
  return {
    setRows(next) { rows = next; render(); },
    get body() { return body; },
  };
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export function markCurrentNav(page) {
  for (const link of document.querySelectorAll(".site-header nav a")) {
    if (link.dataset.nav === page) link.setAttribute("aria-current", "page");
  }
}
