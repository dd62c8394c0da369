// A case's transcript: Download (PDF or text, from the server) and Print (the JSON transcript
// laid out in a print-only area of this page, then the browser's print dialog).

import { h, replaceChildren } from "./dom.js";
import { exactTime, formatOffset, parseTime } from "./time.js";

const KIND = { in: "Customer", out: "Sent", note: "Internal note" };

function url(caseId, format) {
  return `/api/cases/${encodeURIComponent(caseId)}/transcript?format=${format}`;
}

export function transcriptControls(app, win) {
  const link = (format, label) => h("a", {
    class: `button-link transcript-${format}`, href: url(win.id, format), download: `case-${win.id}-transcript.${format}`,
  }, label);
  return h("div", { class: "transcript-controls", role: "group", "aria-label": "Transcript" },
    h("span", { class: "label" }, "Transcript: "),
    link("pdf", "Download PDF"), " ", link("txt", "Download text"), " ",
    h("button", { type: "button", class: "link-button transcript-print", onclick: () => printTranscript(app, win.id) }, "Print"));
}

async function printTranscript(app, caseId) {
  let t;
  try {
    t = await app.api.get(url(caseId, "json"));
  } catch (error) {
    app.flash(`Could not load the transcript of case #${caseId}: ${error.message}`, "error");
    return;
  }
  let area = document.getElementById("print-area");
  if (!area) {
    area = h("div", { id: "print-area", "aria-hidden": "true" });
    document.body.appendChild(area);
  }
  replaceChildren(area,
    h("h1", {}, `Transcript of case #${t.case_id}`),
    h("p", {}, `${t.phone}${t.contact_name ? ` (${t.contact_name})` : ""} · agent ${t.agent || "-"} · ${t.status}`
      + `${t.wrap_up ? ` · ${t.wrap_up}` : ""}`),
    h("ol", { class: "print-entries" }, ...t.entries.map((e) => h("li", { class: `print-${e.kind}` },
      h("p", { class: "print-head" }, `${exactTime(parseTime(e.at))} (${formatOffset(e.since_start_s)}) `
        + `${KIND[e.kind]}${e.kind === "in" ? "" : ` by ${e.who}`}${e.state ? ` [${e.state}]` : ""}`),
      h("p", { class: "print-text" }, e.text)))));
  area.dataset.caseId = String(t.case_id);
  window.print();
}
