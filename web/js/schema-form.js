// Form fields generated from pydantic JSON schemas, and the errors of the API's 422
// (`detail[].loc`) put beside the field they name.

import { el } from "./ui.js";

let counter = 0;

/** A labelled field: {node, input, error, read(), loc}. `read` returns the value to
 *  send, or undefined to leave the key out (empty, or equal to the default). Values
 *  the browser cannot parse are sent as typed, so the server's message names them. */
export function field({ loc, label, help, input, read }) {
  counter += 1;
  const id = `field-${loc.replace(/[^A-Za-z0-9_-]/g, "-")}-${counter}`;
  input.id = id;
  const error = el("p", { class: "field-error", id: `${id}-error`, dataset: { errorFor: loc } });
  const helpNode = help ? el("p", { class: "help", id: `${id}-help` }, help) : null;
  input.setAttribute("aria-describedby", [helpNode ? helpNode.id : null, error.id].filter(Boolean).join(" "));
  const isCheckbox = input.type === "checkbox";
  const labelNode = el("label", { for: id }, label);
  const node = el("div", { class: `field${isCheckbox ? " checkbox" : ""}`, dataset: { loc } },
    ...(isCheckbox ? [input, labelNode] : [labelNode, input]), helpNode, error);
  return { node, input, error, read, loc };
}

/** Parse a typed number: a number when it is one, else the text (the API names it). */
export function parseNumber(text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

function resolve(schema, defs) {
  if (schema && schema.$ref) return resolve(defs[schema.$ref.split("/").pop()] || {}, defs);
  if (schema && schema.allOf && schema.allOf.length === 1) return { ...resolve(schema.allOf[0], defs), ...schema, allOf: undefined };
  return schema || {};
}

/** The property's own schema with `anyOf: [X, null]` unwrapped; nullable says whether null is allowed. */
function unwrap(property, defs) {
  const outer = resolve(property, defs);
  if (Array.isArray(outer.anyOf)) {
    const variants = outer.anyOf.map((variant) => resolve(variant, defs));
    const nonNull = variants.filter((variant) => variant.type !== "null");
    const nullable = nonNull.length < variants.length;
    if (nonNull.length === 1) return { schema: { ...nonNull[0], ...strip(outer) }, nullable };
    return { schema: { ...strip(outer), type: "json" }, nullable };
  }
  return { schema: outer, nullable: false };
}

function strip(schema) {
  const rest = { ...schema };
  delete rest.anyOf;
  return rest;
}

function bounds(schema) {
  const parts = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  return parts.join(", ");
}

function describeDefault(value) {
  if (value === null) return "none";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Fields for every property of an object schema; locPrefix e.g. "params" or "problem". */
export function schemaFields(objectSchema, locPrefix, { skip = [] } = {}) {
  const defs = objectSchema.$defs || {};
  const required = new Set(objectSchema.required || []);
  return Object.entries(objectSchema.properties || {})
    .filter(([name]) => !skip.includes(name))
    .map(([name, property]) => propertyField(name, property, defs, required.has(name), `${locPrefix}.${name}`));
}

function propertyField(name, property, defs, required, loc) {
  const { schema, nullable } = unwrap(property, defs);
  const hasDefault = "default" in property || "default" in schema;
  const fallback = "default" in property ? property.default : schema.default;
  const type = schema.enum ? "enum" : schema.const !== undefined ? "const" : schema.type || "json";
  const notes = [];
  if (schema.description || property.description) notes.push(schema.description || property.description);
  const typeNote = { integer: "integer", number: "number", boolean: "yes/no", string: "text", enum: "one of the listed", json: "JSON" }[type];
  const range = bounds(schema);
  const facts = [typeNote, range, hasDefault ? `default ${describeDefault(fallback)}` : required ? "required" : null]
    .filter(Boolean).join(" · ");
  if (facts && type !== "const") notes.push(facts);
  const label = name;
  const help = notes.join(" — ");

  if (type === "const") {
    const input = el("input", { type: "text", value: describeDefault(schema.const), readonly: true });
    return field({ loc, label, help: `${help ? `${help} — ` : ""}fixed for this problem`, input, read: () => undefined });
  }
  if (type === "boolean" && !nullable) {
    const input = el("input", { type: "checkbox", checked: Boolean(fallback) });
    return field({ loc, label, help, input, read: () => (hasDefault && input.checked === Boolean(fallback) ? undefined : input.checked) });
  }
  if (type === "enum" || type === "boolean") {
    const choices = type === "enum" ? schema.enum : [true, false];
    const input = el("select", {},
      ...(nullable || !hasDefault ? [el("option", { value: "" }, hasDefault ? `default (${describeDefault(fallback)})` : "choose…")] : []),
      ...choices.map((choice, i) => el("option", { value: String(i), selected: hasDefault && !nullable && choice === fallback }, String(choice))));
    return field({
      loc, label, help, input,
      read: () => {
        if (input.value === "") return undefined;
        const value = choices[Number(input.value)];
        return hasDefault && value === fallback ? undefined : value;
      },
    });
  }
  if (type === "integer" || type === "number" || type === "string") {
    const numeric = type !== "string";
    const input = el("input", {
      type: "text", autocomplete: "off", spellcheck: "false",
      inputmode: numeric ? (type === "integer" ? "numeric" : "decimal") : null,
      value: hasDefault && fallback !== null ? String(fallback) : "",
      placeholder: nullable ? `default: ${describeDefault(fallback)}` : null,
    });
    return field({
      loc, label, help, input,
      read: () => {
        const value = numeric ? parseNumber(input.value) : input.value === "" ? undefined : input.value;
        if (value === undefined) return undefined;
        return hasDefault && value === fallback ? undefined : value;
      },
    });
  }
  // arrays, objects, unions: JSON text
  const input = el("textarea", { rows: "3", spellcheck: "false" }, hasDefault && fallback !== null ? JSON.stringify(fallback) : "");
  return field({
    loc, label, help, input,
    read: () => {
      const text = input.value.trim();
      if (text === "") return undefined;
      let value;
      try {
        value = JSON.parse(text);
      } catch {
        return text;
      }
      return hasDefault && JSON.stringify(value) === JSON.stringify(fallback) ? undefined : value;
    },
  });
}

/** Where each loc's errors go: fields by their loc, plus aliases and group error slots. */
export class ErrorMap {
  constructor(general) {
    this.general = general;
    this.targets = new Map();
  }

  add(loc, target) {
    this.targets.set(loc, target);
  }

  remove(prefix) {
    for (const loc of [...this.targets.keys()]) if (loc === prefix || loc.startsWith(`${prefix}.`)) this.targets.delete(loc);
  }

  clear() {
    for (const target of this.targets.values()) {
      target.error.textContent = "";
      if (target.input) target.input.removeAttribute("aria-invalid");
    }
    this.general.replaceChildren();
    this.general.hidden = true;
  }

  /** errors: [{loc: ["params", "batch_size"], msg}]; returns the first input marked. */
  show(errors) {
    this.clear();
    let first = null;
    const unplaced = [];
    for (const error of errors) {
      let placed = false;
      for (let k = error.loc.length; k > 0 && !placed; k -= 1) {
        const target = this.targets.get(error.loc.slice(0, k).join("."));
        if (!target) continue;
        const rest = error.loc.slice(k).join(".");
        const message = rest ? `${rest}: ${error.msg}` : error.msg;
        target.error.textContent = target.error.textContent ? `${target.error.textContent} ${message}` : message;
        if (target.input) {
          target.input.setAttribute("aria-invalid", "true");
          first = first || target.input;
        }
        placed = true;
      }
      if (!placed) unplaced.push(`${error.loc.join(".") || "request"}: ${error.msg}`);
    }
    if (unplaced.length) {
      this.general.replaceChildren(el("div", { class: "alert", role: "alert" }, ...unplaced.map((text) => el("div", {}, text))));
      this.general.hidden = false;
    }
    return first;
  }

  showGeneral(message) {
    this.clear();
    this.general.replaceChildren(el("div", { class: "alert", role: "alert" }, message));
    this.general.hidden = false;
  }
}
