// The chat view: a number's whole history grouped by case, inbound and outbound told apart,
// live ages with the exact time on hover, per-part delivery state with icon and text.

import { splitParts } from "./counter.js";
import { h, linkify } from "./dom.js";
import { clockTime, exactTime, formatAgo, formatOffset, parseTime } from "./time.js";

// Icon and words for every part state: never colour alone.
export const PART_STATES = {
  queued: { icon: "…", text: "queued" },
  sending: { icon: "↑", text: "sending" },
  sent: { icon: "✓", text: "sent" },
  delivered: { icon: "✓✓", text: "delivered" },
  failed: { icon: "✖", text: "failed" },
  expired: { icon: "✖", text: "expired" },
  unknown: { icon: "?", text: "unknown (may not have been sent)" },
  received: { icon: "↓", text: "received" },
};
const RESENDABLE = new Set(["failed", "expired", "unknown"]);

/** The clock time of a message and, beside it, its age from when the interaction began. */
function ageElement(ms, sinceStart) {
  const known = sinceStart !== undefined && sinceStart !== null;
  return h("span", { class: "msg-when" },
    h("time", {
      class: "msg-clock", datetime: new Date(ms).toISOString(),
      title: `${exactTime(ms)}${known ? ` · ${formatOffset(sinceStart)} into the conversation` : ""}`,
    }, clockTime(ms)),
    known ? h("span", {
      class: "msg-offset", title: "Time since the conversation began",
    }, formatOffset(sinceStart)) : null,
    h("span", { class: "msg-age", dataset: { ageFrom: String(ms) } }, formatAgo(Date.now() - ms)));
}

function partsList(message, onResend, onDiscard, discarded) {
  const parts = message.parts || [];
  const total = parts.length || message.delivery?.total || 1;
  const items = parts.map((part) => {
    const state = PART_STATES[part.status] || { icon: "•", text: part.status };
    const label = total > 1 ? `Part ${part.seq} of ${part.total || total}: ` : "";
    const when = parseTime(part.done_at || part.sent_at);
    const resend = RESENDABLE.has(part.status) && onResend && !discarded
      ? h("button", {
        type: "button", class: "resend link-button",
        "aria-label": total > 1 ? `Resend part ${part.seq}` : "Resend",
        onclick: () => onResend(message, part),
      }, total > 1 ? `Resend part ${part.seq}` : "Resend")
      : null;
    return h("li", {
      class: `part part-${part.status}`, dataset: { status: part.status, seq: String(part.seq) },
      title: when ? `${state.text} at ${exactTime(when)}` : state.text,
    },
    h("span", { class: "part-icon", "aria-hidden": "true" }, state.icon),
    ` ${label}${state.text}`,
    part.error ? h("span", { class: "part-error" }, ` (${part.error})`) : null,
    resend ? " " : null, resend);
  });
  const failed = parts.some((part) => RESENDABLE.has(part.status));
  if (failed && discarded) {
    items.push(h("li", { class: "part part-discarded" }, "Not sent: discarded by the agent"));
  } else if (failed && onDiscard) {
    items.push(h("li", { class: "part-actions" }, h("button", {
      type: "button", class: "discard link-button", onclick: () => onDiscard(message),
    }, "Discard")));
  }
  if (!items.length) {
    const state = PART_STATES[message.status] || { icon: "•", text: message.status };
    items.push(h("li", { class: `part part-${message.status}`, dataset: { status: message.status } },
      h("span", { class: "part-icon", "aria-hidden": "true" }, state.icon), ` ${state.text}`));
  }
  return h("ul", { class: "parts", "aria-label": "Delivery" }, ...items);
}

export function messageElement(message, { onResend, onDiscard, discarded, agentName, sinceStart }) {
  const ms = parseTime(message.at) ?? Date.now();
  const inbound = message.direction === "in";
  let body;
  if (message.is_text === false || message.text === null || message.text === undefined) {
    body = h("p", { class: "msg-placeholder" },
      `[${message.placeholder || "Not a text message"}]`);
  } else {
    body = h("p", { class: "msg-text" }, linkify(message.text));
  }
  const missing = (message.missing_parts || []).length
    ? h("p", { class: "msg-note" },
      `⚠ Incomplete: part${message.missing_parts.length > 1 ? "s" : ""} ${message.missing_parts.join(", ")} never arrived`)
    : null;
  return h("li", {
    class: `msg ${inbound ? "msg-in" : "msg-out"}`,
    dataset: { messageId: String(message.id), direction: message.direction, status: message.status },
  },
  h("div", { class: "bubble" },
    h("p", { class: "msg-who" }, inbound ? "Customer" : message.sent_by || agentName || "Agent",
      h("span", { class: "visually-hidden" }, inbound ? " wrote" : " sent")),
    body,
    missing,
    message.opt_out_hint
      ? h("p", { class: "msg-note opt-out-hint" },
        "Hint: this text mentions stopping, but is not an opt-out. Check before texting again.")
      : null,
    h("div", { class: "msg-meta" },
      ageElement(ms, message.since_start_s ?? sinceStart),
      !inbound ? partsList(message, onResend, onDiscard, discarded) : null,
      message.error && !inbound ? h("span", { class: "msg-error" }, message.error) : null)));
}

export function pendingElement(item, { onDiscard, onRetry, onEdit, onOverride }) {
  let state;
  let actions = [];
  if (item.state === "rejected") {
    state = h("p", { class: "pending-state pending-rejected" },
      h("span", { "aria-hidden": "true" }, "✖ "), `Not sent: ${item.error}`);
    actions = [
      h("button", { type: "button", onclick: () => onEdit(item) }, "Edit"),
      h("button", { type: "button", onclick: () => onRetry(item) }, "Try again"),
      h("button", { type: "button", onclick: () => onDiscard(item) }, "Discard"),
    ];
  } else if (item.state === "confirm") {
    state = h("p", { class: "pending-state pending-confirm" },
      h("span", { "aria-hidden": "true" }, "⚠ "), item.error);
    actions = [
      h("button", { type: "button", class: "danger", onclick: () => onOverride(item) }, "Send anyway"),
      h("button", { type: "button", onclick: () => onDiscard(item) }, "Discard"),
    ];
  } else {
    state = h("p", { class: "pending-state" },
      h("span", { "aria-hidden": "true" }, "… "),
      item.error ? `Pending: ${item.error}` : "Pending: waiting for the server to confirm");
    // Retrying on its own; the agent may still give up on it (it was never queued).
    if (item.error) actions = [h("button", { type: "button", onclick: () => onDiscard(item) }, "Discard")];
  }
  return h("li", { class: "msg msg-out msg-pending", dataset: { clientId: item.client_id, pending: item.state } },
    h("div", { class: "bubble" },
      h("p", { class: "msg-who" }, "You", h("span", { class: "visually-hidden" }, " are sending")),
      h("p", { class: "msg-text" }, linkify(item.text)),
      state,
      actions.length ? h("div", { class: "pending-actions" }, ...actions) : null));
}

/** Messages (oldest first) cut into runs of the same case. */
export function groupByCase(messages) {
  const groups = [];
  for (const message of messages) {
    const last = groups[groups.length - 1];
    if (last && last.caseId === message.case_id) last.messages.push(message);
    else groups.push({ caseId: message.case_id, messages: [message] });
  }
  return groups;
}

export function groupHeading(group, currentCaseId) {
  const first = parseTime(group.messages[0].at);
  const last = parseTime(group.messages[group.messages.length - 1].at);
  let span = "";
  if (first !== null) {
    const end = clockTime(last);
    span = ` · ${exactTime(first)}`;
    if (last !== null && end !== clockTime(first)) {
      const sameDay = new Date(first).toDateString() === new Date(last).toDateString();
      span += ` – ${sameDay ? end : exactTime(last)}`;
    }
  }
  const name = group.caseId === null || group.caseId === undefined
    ? "Not in a case" : `Case #${group.caseId}${group.caseId === currentCaseId ? " (this case)" : ""}`;
  return h("h3", { class: "case-group-title" }, name, h("span", { class: "case-group-span" }, span));
}

/** The text of one part of a sent message, for resending just that part. */
export function partText(message, part) {
  const chunks = splitParts(message.text || "");
  if (part && chunks.length === (part.total || message.parts?.length) && chunks[part.seq - 1]) {
    return chunks[part.seq - 1];
  }
  return message.text || "";
}
