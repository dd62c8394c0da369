// The telephony panel: waiting SMS Chat Requests, the line status strip, the dial pad.

import { h, replaceChildren } from "./dom.js";
import { clockTime, exactTime, formatWait, parseTime } from "./time.js";

// ---------------------------------------------------------------- lines

const UNREGISTERED = new Set(["not_registered", "searching", "denied"]);

/** Signal as bars and dBm; CSQ 0..31 maps to -113..-51 dBm. */
function signalOf(line) {
  let dbm = line.signal_dbm ?? null;
  let csq = line.signal_csq ?? null;
  if (line.signal && typeof line.signal === "object") {
    dbm = line.signal.dbm ?? dbm;
    csq = line.signal.csq ?? csq;
  } else if (typeof line.signal === "number") {
    if (line.signal < 0) dbm = line.signal;
    else csq = line.signal;
  }
  if (dbm === null && csq !== null) dbm = -113 + 2 * csq;
  if (dbm === null) return { bars: null, text: "signal unknown" };
  const bars = dbm >= -73 ? 4 : dbm >= -83 ? 3 : dbm >= -93 ? 2 : dbm >= -109 ? 1 : 0;
  return { bars, text: `${dbm} dBm` };
}

const STATE_WORDS = {
  disconnected: "is not connected", unplugged: "is not connected", error: "is not connected",
  connecting: "is connecting", initialising: "is starting up", initializing: "is starting up",
  sim_locked: "has a locked SIM card", sim_missing: "has no SIM card",
  stopped: "is stopped",
};

/** Why a line cannot send, as words for an agent (never a raw error), or null when it can. */
export function lineProblem(line) {
  const state = line.state ?? line.status ?? null;
  if (line.can_send === true) return null;
  if (state && state !== "ready") {
    return STATE_WORDS[state] || `is ${state.replaceAll("_", " ")}`;
  }
  if (line.registration && UNREGISTERED.has(line.registration)) {
    return "is not registered on the network";
  }
  if (line.can_send === false) return "cannot reach the network";
  return null;
}

export function renderLines(list, lines) {
  const items = lines.map((line) => {
    const problem = lineProblem(line);
    const signal = signalOf(line);
    const state = line.state ?? line.status ?? "unknown";
    const bars = signal.bars === null ? "" : `${"▂▄▆█".slice(0, signal.bars).padEnd(4, "·")} `;
    return h(
      "li",
      { class: `line ${problem ? "line-down" : "line-ok"}`, dataset: { lineId: String(line.id) } },
      h("span", { class: "line-dot", "aria-hidden": "true" }, problem ? "✖" : "●"),
      h("span", { class: "line-name" }, line.name),
      line.number ? h("span", { class: "line-number" }, line.number) : null,
      h("span", { class: "line-state" }, problem ? "cannot send" : state),
      h("span", { class: "line-signal", title: `Signal ${signal.text}` },
        h("span", { "aria-hidden": "true" }, bars), signal.text),
      h("span", { class: "line-reg" }, line.registration ? line.registration.replace("_", " ") : "registration unknown"),
      h("span", { class: "line-queue" }, `queue ${line.queue_depth ?? 0}`),
      line.node ? h("span", { class: "line-node", title: "The gateway host this line's modem is on" }, `on ${line.node}`) : null,
    );
  });
  if (!items.length) items.push(h("li", { class: "line line-none" }, "No lines configured"));
  replaceChildren(list, ...items);
}

// ---------------------------------------------------------------- requests

const SENDER_KINDS = {
  international: "number", national: "national number", short_code: "short code",
  alphanumeric: "sender name", other: "number",
};

/** "short code 12345", "sender name ACME": who wrote, as the network named them. */
export function senderLabel(sender) {
  return `${SENDER_KINDS[sender.kind] || "number"} ${sender.address}`;
}

function lineLabel(line) {
  if (!line) return "unknown line";
  return line.number ? `${line.name} (${line.number})` : line.name;
}

function closedWhen(summary) {
  const at = parseTime(summary.closed_at);
  if (at === null) return "";
  const sameDay = new Date(at).toDateString() === new Date().toDateString();
  return sameDay ? `today ${clockTime(at)}` : exactTime(at);
}

/** Who has waited longest, above the list: the first thing to answer in a flood. */
export function renderOldest(el, oldest, count) {
  const key = oldest ? `${oldest.id}:${count > 1}` : "";
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  el.hidden = !oldest;
  if (!oldest) {
    replaceChildren(el);
    return;
  }
  const created = parseTime(oldest.created_at) ?? Date.now() - (oldest.waiting_s || 0) * 1000;
  replaceChildren(el,
    h("span", { class: "requests-oldest-label" }, count > 1 ? "Oldest: " : "Waiting: "),
    h("span", { class: "requests-oldest-call-id" }, oldest.call_id),
    ` on ${lineLabel(oldest.line)}, waiting `,
    h("span", { class: "requests-oldest-wait", title: `Waiting since ${exactTime(created)}`,
      dataset: { waitFrom: String(created) } }, formatWait(Date.now() - created)));
}

/** The request list, updated in place so focus on an Answer button survives new arrivals. */
export class RequestList {
  constructor(list, { onAnswer }) {
    this.list = list;
    this.onAnswer = onAnswer;
    this.items = new Map(); // id -> {li, key}
  }

  render(requests) {
    const seen = new Set();
    let previous = null;
    for (const request of requests) {
      seen.add(request.id);
      const key = JSON.stringify([request.preview, request.recent_case, request.overdue,
        request.opted_out, request.line, request.created_at, request.contact_name, request.sender,
        request.away_agent]);
      let item = this.items.get(request.id);
      if (!item) {
        item = { li: h("li", { class: "request", dataset: { requestId: String(request.id) } }), key: null };
        this.items.set(request.id, item);
      }
      if (item.key !== key) {
        this._fill(item.li, request);
        item.key = key;
      }
      const expected = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== item.li) this.list.insertBefore(item.li, expected);
      previous = item.li;
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
  }

  _fill(li, request) {
    const created = parseTime(request.created_at) ?? Date.now() - (request.waiting_s || 0) * 1000;
    li.classList.toggle("overdue", Boolean(request.overdue));
    const headingId = `request-${request.id}-title`;
    const actions = [];
    const recent = request.recent_case;
    if (request.case_id) {
      actions.push(h("button", {
        type: "button", class: "primary answer",
        "aria-label": `Answer ${request.name} from ${request.call_id} (continues case #${request.case_id})`,
        onclick: () => this.onAnswer(request, "new"),
      }, `Answer (continues case #${request.case_id})`));
    } else if (recent && recent.status === "closed") {
      const by = recent.closed_by ? ` by ${recent.closed_by}` : "";
      actions.push(
        h("button", {
          type: "button", class: "primary answer-continue",
          onclick: () => this.onAnswer(request, "continue", recent.id),
        }, `Continue case #${recent.id} (closed ${closedWhen(recent)}${by})`),
        h("button", {
          type: "button", class: "answer-new",
          onclick: () => this.onAnswer(request, "new"),
        }, "New case"),
      );
    } else {
      actions.push(h("button", {
        type: "button", class: "primary answer",
        "aria-label": `Answer ${request.name} from ${request.call_id}`,
        onclick: () => this.onAnswer(request, "new"),
      }, "Answer"));
    }
    replaceChildren(li,
      h("article", { "aria-labelledby": headingId },
        h("div", { class: "request-head" },
          h("span", { class: "bell", "aria-hidden": "true" }, "☎"),
          h("strong", { id: headingId, class: "request-name" }, request.name),
          h("span", { class: "request-wait", title: `Waiting since ${exactTime(created)}` },
            h("span", { class: "visually-hidden" }, "waiting "),
            h("span", { dataset: { waitFrom: String(created) } }, formatWait(Date.now() - created))),
        ),
        h("dl", { class: "request-meta" },
          request.contact_name ? h("dt", {}, "Contact") : null,
          request.contact_name ? h("dd", { class: "request-contact" }, request.contact_name) : null,
          h("dt", {}, "Call ID"), h("dd", { class: "request-call-id" }, request.call_id),
          h("dt", {}, "Line"), h("dd", { class: "request-line" }, lineLabel(request.line)),
          request.sender && request.sender.kind !== "international"
            ? [h("dt", {}, "From"), h("dd", { class: "request-sender" }, senderLabel(request.sender))]
            : null,
        ),
        h("p", { class: "request-preview" }, request.preview || "(no text)"),
        request.overdue ? h("p", { class: "request-flag" }, "⚠ Overdue: waiting too long") : null,
        request.away_agent
          ? h("p", { class: "request-flag request-away" },
            `⚠ ${request.away_agent} is away: this customer is waiting in their case #${request.case_id}`)
          : null,
        request.opted_out
          ? h("p", { class: "request-flag" }, "⚠ This number has opted out (sent STOP or similar)")
          : null,
        h("div", { class: "request-actions" }, ...actions),
      ),
    );
  }

  focusFirst() {
    const button = this.list.querySelector("button");
    if (button) button.focus();
    return Boolean(button);
  }
}

// ---------------------------------------------------------------- dial pad

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "0", "⌫"];

export function buildDialpadKeys(container, input) {
  for (const key of KEYS) {
    const label = key === "⌫" ? "Delete last digit" : `Digit ${key}`;
    container.appendChild(h("button", {
      type: "button", class: "key", "aria-label": label, tabindex: "-1",
      onclick: () => {
        if (key === "⌫") input.value = input.value.slice(0, -1);
        else input.value += key;
        input.focus();
      },
    }, key));
  }
}
