// The demo's customer phone: sends through the simulator's control API as a handset would,
// and polls the handset's inbox for the agent's replies. Message text is shown as text only.

import { countSegments } from "/console/js/counter.js";

const POLL_MS = 1000;
const DEFAULT_NUMBER = "+15551234567";
const base = new URL("api/", location.origin + location.pathname.replace(/\/?$/, "/"));
const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const myNumber = $("my-number");
const toNumber = $("to-number");
myNumber.value = params.get("number") || localStorage.getItem("sim-phone-number") || DEFAULT_NUMBER;
toNumber.value = params.get("to") || localStorage.getItem("sim-phone-to") || "";

let sent = [];
let inbox = [];
let lastRendered = "";

function sentKey() {
  return `sim-phone-sent:${myNumber.value.trim()}`;
}

function loadSent() {
  try {
    sent = JSON.parse(localStorage.getItem(sentKey()) || "[]");
  } catch {
    sent = [];
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render() {
  const items = [
    ...sent.map((m) => ({ ...m, kind: "out", time: Date.parse(m.at) })),
    ...inbox.map((m, i) => ({ ...m, kind: "in", time: Date.parse(m.received_at), index: i })),
  ].sort((a, b) => a.time - b.time);
  const key = JSON.stringify(items);
  if (key === lastRendered) return;
  lastRendered = key;
  const thread = $("thread");
  thread.replaceChildren(...items.map((m) => {
    const li = el("li", `bubble ${m.kind}`);
    li.dataset.direction = m.kind;
    li.appendChild(el("p", "who", m.kind === "in" ? `From ${m.from}` : `To ${m.to}`));
    li.appendChild(el("p", "text", m.text === null ? "[message that is not text]" : m.text));
    const time = new Date(m.time).toLocaleTimeString();
    const meta = m.kind === "in"
      ? `${time} · ${m.parts} part${m.parts === 1 ? "" : "s"}`
      : `${time} · ${m.error ? `not sent: ${m.error}` : `sent in ${m.parts} part${m.parts === 1 ? "" : "s"}`}`;
    li.appendChild(el("p", "meta", meta));
    return li;
  }));
  thread.scrollTop = thread.scrollHeight;
}

async function call(method, path, body) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(data?.error?.message || `HTTP ${response.status}`);
  return data;
}

async function poll() {
  const number = myNumber.value.trim();
  if (number) {
    try {
      inbox = await call("GET", `handsets/${encodeURIComponent(number)}/inbox`);
      $("status").textContent = "";
      render();
    } catch (error) {
      $("status").textContent = `Cannot reach the simulator: ${error.message}`;
    }
  }
  setTimeout(poll, POLL_MS);
}

async function loadGatewayNumbers() {
  try {
    const modems = await call("GET", "modems");
    const list = $("gateway-numbers");
    list.replaceChildren(...modems.map((m) => {
      const option = document.createElement("option");
      option.value = m.msisdn;
      option.textContent = `${m.name} (${m.msisdn})`;
      return option;
    }));
    if (!toNumber.value && modems.length) toNumber.value = modems[0].msisdn;
  } catch {
    // The field stays editable; the page still works with a typed number.
  }
  try {
    const smsc = await call("GET", "smsc"); // a short code on the simulated SMSC, if any
    const option = document.createElement("option");
    option.value = smsc.number;
    option.textContent = `short code (${smsc.number})`;
    $("gateway-numbers").appendChild(option);
  } catch {
    // No simulated SMSC: only the modems' numbers are offered.
  }
}

async function send() {
  const text = $("text").value;
  const to = toNumber.value.trim();
  const from = myNumber.value.trim();
  if (!text.trim() || !to || !from) return;
  $("send").disabled = true;
  const entry = { to, text, at: new Date().toISOString(), parts: 0, error: null };
  try {
    const data = await call("POST", `handsets/${encodeURIComponent(from)}/send`, { to, text });
    entry.parts = Array.isArray(data.parts) ? data.parts.length : data.parts;
    $("text").value = "";
  } catch (error) {
    entry.error = error.message;
  } finally {
    $("send").disabled = false;
  }
  sent.push(entry);
  localStorage.setItem(sentKey(), JSON.stringify(sent));
  updateCount();
  render();
  $("text").focus();
}

function updateCount() {
  const count = countSegments($("text").value);
  $("count").textContent = `${count.characters} characters · ${count.parts} part${count.parts === 1 ? "" : "s"}`;
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
$("text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
$("text").addEventListener("input", updateCount);
myNumber.addEventListener("change", () => {
  localStorage.setItem("sim-phone-number", myNumber.value.trim());
  loadSent();
  inbox = [];
  render();
});
toNumber.addEventListener("change", () => localStorage.setItem("sim-phone-to", toNumber.value.trim()));

loadSent();
updateCount();
render();
loadGatewayNumbers();
poll();
