// The submit form, generated from GET /api/v1/registry: algorithm and problem pickers,
// their parameters from the JSON schemas, budget and seed. The server validates; its
// 422 messages are shown beside the fields they name. On success: the campaign's page.

import { ApiError, api } from "./api.js";
import { ErrorMap, field, parseNumber, schemaFields } from "./schema-form.js";
import { el, markCurrentNav, objectiveLabel, vector } from "./ui.js";

const EXTERNAL_EXAMPLE = {
  parameters: [{ name: "temp", low: 20, high: 90 }, { name: "time", low: 1, high: 10 }],
  objectives: [{ name: "yield", sense: "maximize" }, { name: "cost", sense: "minimize" }],
};
const DEFAULT_BUDGET = { evaluations: 100, env_steps: 100000 };

const form = document.getElementById("submit-form");
const submitButton = document.getElementById("submit-button");
const submitStatus = document.getElementById("submit-status");
const preview = document.getElementById("spec-preview");
const errors = new ErrorMap(document.getElementById("form-error"));

let registry = null;
const fields = { problem: [], params: [] };
const controls = {};

markCurrentNav("submit");
start();

async function start() {
  try {
    registry = await api.registry();
  } catch (error) {
    errors.showGeneral(`Cannot load the registry: ${error.message}`);
    return;
  }
  buildMainFields();
  const params = new URLSearchParams(location.search);
  if (params.get("algorithm")) controls.algorithm.value = params.get("algorithm");
  onAlgorithmChange();
  if (params.get("problem")) {
    const wanted = [...controls.problem.options].find((o) => o.value.endsWith(`:${params.get("problem")}`));
    if (wanted) controls.problem.value = wanted.value;
  }
  onProblemChange();
  form.addEventListener("input", updatePreview);
  form.addEventListener("change", updatePreview);
  form.addEventListener("submit", submit);
  updatePreview();
}

function add(container, made, ...aliases) {
  container.append(made.node);
  errors.add(made.loc, made);
  for (const alias of aliases) errors.add(alias, made);
  return made;
}

function buildMainFields() {
  const main = document.getElementById("main-fields");
  controls.algorithm = el("select", {}, ...registry.algorithms.map((a) => el("option", { value: a.name }, a.name)));
  controls.algorithmHelp = add(main, field({ loc: "algorithm", label: "Algorithm", help: " ", input: controls.algorithm }));
  controls.problem = el("select");
  controls.problemHelp = add(main, field({ loc: "problem.id", label: "Problem", help: " ", input: controls.problem }), "problem.kind");
  controls.name = el("input", { type: "text", autocomplete: "off", placeholder: "default: algorithm-problem" });
  add(main, field({ loc: "name", label: "Name", help: "optional, to find the campaign again", input: controls.name,
    read: () => controls.name.value.trim() || undefined }));
  controls.algorithm.addEventListener("change", onAlgorithmChange);
  controls.problem.addEventListener("change", onProblemChange);

  const budget = document.getElementById("budget-grid");
  controls.budgetUnit = el("select");
  add(budget, field({ loc: "budget.unit", label: "Budget unit", help: "what the budget counts", input: controls.budgetUnit }));
  controls.budgetAmount = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", value: "100" });
  add(budget, field({ loc: "budget", label: "Budget", help: "integer > 0: evaluations (or environment steps) to spend", input: controls.budgetAmount }),
    "budget.evaluations", "budget.env_steps");
  controls.seed = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", value: "0" });
  add(budget, field({ loc: "seed", label: "Seed", help: "integer ≥ 0; the same spec and seed reproduce the same evaluations", input: controls.seed }));

  const advanced = document.getElementById("advanced-grid");
  controls.reference = el("input", { type: "text", autocomplete: "off" });
  controls.referenceField = add(advanced, field({ loc: "reference_point", label: "Reference point",
    help: "comma-separated, one value per objective, in raw units; default: the problem's published one, else the nadir rule", input: controls.reference }));
  controls.attempts = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", value: "3" });
  add(advanced, field({ loc: "max_attempts", label: "Max attempts", help: "launches before a crashing campaign fails (1–10)", input: controls.attempts }));
  controls.gpus = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", value: "0" });
  add(advanced, field({ loc: "resources.gpus", label: "GPUs", help: "GPUs the campaign asks for (0–8)", input: controls.gpus }), "resources");
  errors.add("params", { error: groupError("algorithm-fields"), input: null });
  errors.add("problem", { error: groupError("problem-fields"), input: null });
}

function groupError(fieldsetId) {
  const fieldset = document.getElementById(fieldsetId);
  let node = fieldset.querySelector(":scope > .group-error");
  if (!node) {
    node = el("p", { class: "group-error", role: "alert" });
    fieldset.querySelector("legend").after(node);
  }
  return node;
}

function algorithm() {
  return registry.algorithms.find((a) => a.name === controls.algorithm.value);
}

function problem() {
  const [kind, ...rest] = controls.problem.value.split(":");
  const id = rest.join(":");
  return registry.problems.find((p) => p.kind === kind && p.id === id);
}

function onAlgorithmChange() {
  const chosen = algorithm();
  setHelp(controls.algorithmHelp, `${chosen.summary}${chosen.ask_tell ? " · ask/tell" : ""}`);
  const previous = controls.problem.value;
  const kinds = chosen.problem_kinds;
  controls.problem.replaceChildren(...kinds.map((kind) => el("optgroup", { label: kind },
    ...registry.problems.filter((p) => p.kind === kind).map((p) => el("option", { value: `${p.kind}:${p.id}` }, p.id)))));
  if ([...controls.problem.options].some((o) => o.value === previous)) controls.problem.value = previous;
  controls.budgetUnit.replaceChildren(...chosen.budget_units.map((unit) => el("option", { value: unit }, unit.replace("_", " "))));
  controls.budgetAmount.value = String(DEFAULT_BUDGET[chosen.budget_units[0]] || 100);

  const container = document.getElementById("algorithm-fields");
  container.querySelectorAll(":scope > .form-grid, :scope > p.help").forEach((node) => node.remove());
  for (const key of [...errors.targets.keys()]) if (key.startsWith("params.")) errors.targets.delete(key);
  fields.params = schemaFields(chosen.params_schema, "params");
  const grid = el("div", { class: "form-grid" });
  fields.params.forEach((made) => add(grid, made));
  container.append(fields.params.length ? grid : el("p", { class: "help" }, "This algorithm takes no parameters."));
  if (previous !== controls.problem.value) onProblemChange();
}

function onProblemChange() {
  const chosen = problem();
  if (!chosen) return;
  const objectives = chosen.objectives
    ? `objectives ${chosen.objectives.map(objectiveLabel).join(", ")}${chosen.reference_point ? ` · reference point ${vector(chosen.reference_point)}` : ""} (with the default parameters)`
    : "you declare the parameters and objectives below";
  setHelp(controls.problemHelp, `${chosen.summary} — ${objectives}`);
  controls.reference.placeholder = chosen.reference_point ? chosen.reference_point.join(", ") : "nadir rule";

  const container = document.getElementById("problem-fields");
  container.querySelectorAll(":scope > .form-grid, :scope > .field, :scope > p.help").forEach((node) => node.remove());
  for (const key of [...errors.targets.keys()]) if (key.startsWith("problem.") && key !== "problem.id" && key !== "problem.kind") errors.targets.delete(key);
  if (chosen.kind === "external") {
    const input = el("textarea", { rows: "9", spellcheck: "false" }, JSON.stringify(EXTERNAL_EXAMPLE, null, 2));
    const made = field({
      loc: "problem.definition", label: "Problem definition (JSON)", input,
      help: "parameters (name, low, high; optional value_type \"int\", log_scale true, or value_type \"choice\" with values and optional is_ordered), " +
        "objectives (name, sense), optional constraints (\"memory <= 16\", \"a + 2*b <= 10\") and parameter_constraints (\"x1 + 2*x2 <= 10\"); you evaluate through ask/tell",
      read: () => input.value,
    });
    container.append(made.node);
    fields.problem = [made];
    // errors inside the definition (problem.parameters.0.low…) land on the textarea
    errors.add("problem", made);
    return;
  }
  errors.add("problem", { error: groupError("problem-fields"), input: null });
  fields.problem = schemaFields(chosen.params_schema, "problem");
  const grid = el("div", { class: "form-grid" });
  fields.problem.forEach((made) => add(grid, made));
  container.append(fields.problem.length ? grid : el("p", { class: "help" }, "This problem takes no parameters."));
}

function setHelp(made, text) {
  made.node.querySelector(".help").textContent = text;
}

class LocalError extends Error {
  constructor(loc, msg) {
    super(msg);
    this.loc = loc;
  }
}

/** The spec the form describes; throws LocalError only for text that is not JSON. */
function buildSpec() {
  const chosen = problem();
  const spec = { algorithm: controls.algorithm.value };
  const name = controls.name.value.trim();
  if (name) spec.name = name;
  spec.problem = { kind: chosen.kind, id: chosen.id };
  if (chosen.kind === "external") {
    let definition;
    try {
      definition = JSON.parse(fields.problem[0].read());
    } catch (error) {
      throw new LocalError(["problem"], `not valid JSON: ${error.message}`);
    }
    if (definition === null || typeof definition !== "object" || Array.isArray(definition)) {
      throw new LocalError(["problem"], "give a JSON object with parameters and objectives");
    }
    Object.assign(spec.problem, definition);
  } else {
    for (const made of fields.problem) {
      const value = made.read();
      if (value !== undefined) spec.problem[made.loc.split(".").slice(1).join(".")] = value;
    }
  }
  const params = {};
  for (const made of fields.params) {
    const value = made.read();
    if (value !== undefined) params[made.loc.split(".").slice(1).join(".")] = value;
  }
  if (Object.keys(params).length) spec.params = params;
  const amount = parseNumber(controls.budgetAmount.value);
  spec.budget = { [controls.budgetUnit.value]: amount === undefined ? null : amount };
  const seed = parseNumber(controls.seed.value);
  if (seed !== undefined) spec.seed = seed;
  const reference = controls.reference.value.trim();
  if (reference) spec.reference_point = reference.split(/[,\s]+/).filter(Boolean).map((part) => parseNumber(part));
  const attempts = parseNumber(controls.attempts.value);
  if (attempts !== undefined && attempts !== 3) spec.max_attempts = attempts;
  const gpus = parseNumber(controls.gpus.value);
  if (gpus !== undefined && gpus !== 0) spec.resources = { gpus };
  return spec;
}

function updatePreview() {
  try {
    preview.textContent = JSON.stringify(buildSpec(), null, 2);
  } catch (error) {
    preview.textContent = `(${error.message})`;
  }
}

async function submit(event) {
  event.preventDefault();
  errors.clear();
  let spec;
  try {
    spec = buildSpec();
  } catch (error) {
    if (error instanceof LocalError) errors.show([{ loc: error.loc, msg: error.message }])?.focus();
    return;
  }
  submitButton.disabled = true;
  submitStatus.textContent = "Submitting…";
  try {
    const campaign = await api.submit(spec);
    submitStatus.textContent = `Campaign ${campaign.id} created.`;
    location.assign(`campaign.html?id=${campaign.id}`);
  } catch (error) {
    submitStatus.textContent = "";
    if (error instanceof ApiError && error.fieldErrors.length) {
      const first = errors.show(error.fieldErrors);
      submitStatus.textContent = "The server refused the spec: see the messages beside the fields.";
      if (first) first.focus();
    } else {
      errors.showGeneral(error.message);
    }
  } finally {
    submitButton.disabled = false;
  }
}
