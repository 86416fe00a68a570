// The public REST API under /api/v1, as the viewer uses it. Nothing here knows a page.
// A server that requires a token answers 401; the user is then asked for one
// (token.js), and the request is sent again with it.

import { askForToken, storedToken } from "./token.js";

export class ApiError extends Error {
  /** status: the HTTP status (0 when the server could not be reached);
   *  detail: the API's `detail` (a string, or FastAPI's list of {loc, msg, type}). */
  constructor(status, detail) {
    super(describe(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }

  /** The field errors as [{loc: ["params", "batch_size"], msg}], "body" dropped. */
  get fieldErrors() {
    if (!Array.isArray(this.detail)) return [];
    return this.detail.map((error) => ({
      loc: (error.loc || []).filter((part, i) => !(i === 0 && part === "body")).map(String),
      msg: error.msg,
    }));
  }
}

function describe(status, detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  }
  return status ? `the server answered HTTP ${status}` : "the server could not be reached";
}

export async function request(path, { method = "GET", body, raw = false } = {}) {
  const init = { method, headers: { accept: raw ? "*/*" : "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  for (;;) {
    const token = storedToken();
    if (token) init.headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(`/api/v1${path}`, init);
    } catch (error) {
      throw new ApiError(0, `cannot reach the mofront server (${error.message}); is it running?`);
    }
    if (raw && response.ok) return response;
    if (response.status === 204) return null;
    const text = await response.text();
    let payload = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = text;
    }
    if (response.ok) return payload;
    const detail = payload && typeof payload === "object" && "detail" in payload ? payload.detail : payload;
    if (response.status === 401 && (await askForToken(describe(401, detail)))) continue;
    throw new ApiError(response.status, detail || response.statusText);
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const api = {
  registry: () => request("/registry"),
  campaigns: (filters) => request(`/campaigns${query(filters)}`),
  campaign: (id) => request(`/campaigns/${id}`),
  submit: (spec) => request("/campaigns", { method: "POST", body: spec }),
  cancel: (id) => request(`/campaigns/${id}/cancel`, { method: "POST" }),
  front: (id, objectives, { contributions = false, denoised = false } = {}) =>
    request(`/campaigns/${id}/front${query({ objectives: objectives ? objectives.join(",") : null, contributions: contributions || null, denoised: denoised || null })}`),
  history: (id) => request(`/campaigns/${id}/history`),
  knownFront: (id) => request(`/campaigns/${id}/known-front`),
  metrics: (id) => request(`/campaigns/${id}/metrics`),
  importance: (id) => request(`/campaigns/${id}/importance`),
  modelFit: (id) => request(`/campaigns/${id}/model-fit`),
  modelSlice: (id, params) => request(`/campaigns/${id}/model-slice${query(params)}`),
  modelContour: (id, params) => request(`/campaigns/${id}/model-contour${query(params)}`),
  best: (id, preference, scalarisation) => request(`/campaigns/${id}/best${query({ preference, scalarisation })}`),
  evaluations: (id, params) => request(`/campaigns/${id}/evaluations${query(params)}`),
  evaluation: (id) => request(`/evaluations/${id}`),
  suggestions: (id, params) => request(`/campaigns/${id}/suggestions${query(params)}`),
  artifactUrl: (id) => `/api/v1/evaluations/${id}/artifact`,
  /** The artifact as a fetch Response (sent with the token, which a plain link cannot). */
  artifact: (id) => request(`/evaluations/${id}/artifact`, { raw: true }),
  attainment: (ids, percentiles) =>
    request(`/attainment${query({ campaigns: ids.join(","), percentiles: percentiles ? percentiles.join(",") : null })}`),
  compare: (ids, { referencePoint, history } = {}) =>
    request(`/compare${query({ campaigns: ids.join(","), reference_point: referencePoint, history })}`),
};

/** Evaluations of a campaign from `offset` on, every page (the API pages at 10 000). */
export async function evaluationsFrom(id, offset = 0) {
  const items = [];
  for (;;) {
    const page = await api.evaluations(id, { limit: 10000, offset: offset + items.length });
    items.push(...page.items);
    if (page.items.length === 0 || offset + items.length >= page.total) return items;
  }
}
