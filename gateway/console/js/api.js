// The agent API over fetch: JSON in and out, the CSRF header on writes, errors as values
// that say whether retrying can help.

/** The server answered with an error ({"error": {"code", "message"}}). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** No answer at all (connection refused, dropped, timed out): the request may be retried. */
export class NetworkError extends Error {}

const REQUEST_TIMEOUT_MS = 15000;

export class Api {
  constructor({ onUnauthenticated } = {}) {
    this.csrfToken = null;
    this.onUnauthenticated = onUnauthenticated || (() => {});
  }

  async request(method, path, { body, headers = {}, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && this.csrfToken) init.headers["X-CSRF-Token"] = this.csrfToken;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new NetworkError(`no answer from the server (${error.message || error})`);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("application/json")) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const err = (data && data.error) || {};
      const error = new ApiError(
        response.status,
        err.code || `http_${response.status}`,
        err.message || `the server answered ${response.status} ${response.statusText}`,
      );
      if (response.status === 401 && path !== "/api/login") this.onUnauthenticated(error);
      throw error;
    }
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body = {}, headers = {}) {
    return this.request("POST", path, { body, headers });
  }

  // -- the endpoints

  async login(username, password) {
    const data = await this.post("/api/login", { username, password });
    this.csrfToken = data.csrf_token;
    return data;
  }

  async me() {
    const data = await this.get("/api/me");
    this.csrfToken = data.csrf_token;
    return data;
  }

  logout() {
    return this.post("/api/logout");
  }

  /** The oldest `limit` waiting requests, the queue's `count` and its `oldest`. */
  requests(limit) {
    return this.get(limit ? `/api/requests?limit=${encodeURIComponent(limit)}` : "/api/requests");
  }

  answer(requestId, action, caseId) {
    const body = { action };
    if (caseId !== undefined && caseId !== null) body.case_id = caseId;
    return this.post(`/api/requests/${encodeURIComponent(requestId)}/answer`, body);
  }

  startChat(phone, line) {
    const body = { phone };
    if (line) body.line = line;
    return this.post("/api/cases", body);
  }

  cases(status, mine) {
    const query = new URLSearchParams();
    if (status) query.set("status", status);
    if (mine) query.set("mine", "true");
    return this.get(`/api/cases?${query}`);
  }

  caseDetail(caseId) {
    return this.get(`/api/cases/${encodeURIComponent(caseId)}`);
  }

  messages(caseId, before, limit = 50) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set("before", String(before));
    return this.get(`/api/cases/${encodeURIComponent(caseId)}/messages?${query}`);
  }

  send(caseId, text, clientId, overrideOptOut = false) {
    const body = { text, client_id: clientId };
    if (overrideOptOut) body.override_opt_out = true;
    return this.post(`/api/cases/${encodeURIComponent(caseId)}/messages`, body, {
      "Idempotency-Key": clientId,
    });
  }

  close(caseId, wrapUp = {}) {
    return this.post(`/api/cases/${encodeURIComponent(caseId)}/close`, wrapUp);
  }

  handBack(caseId) {
    return this.post(`/api/cases/${encodeURIComponent(caseId)}/handback`);
  }

  reassign(caseId, agent) {
    return this.post(`/api/cases/${encodeURIComponent(caseId)}/reassign`, { agent });
  }

  lines() {
    return this.get("/api/lines");
  }

  agents() {
    return this.get("/api/agents");
  }

  composePreview(text) {
    return this.get(`/api/compose/preview?${new URLSearchParams({ text })}`);
  }
}
