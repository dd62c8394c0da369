// Closing with a wrap-up: when cases.wrap_up_codes are configured, Close asks for a code and
// an optional summary first; without codes it closes at once, as it always did.

import { h, replaceChildren } from "./dom.js";

let codes = null;

async function wrapUpCodes(api) {
  if (!codes) codes = await api.get("/api/wrap-up-codes");
  return codes;
}

/** {wrap_up, summary} to close with, {} for a plain close, or null when the agent cancelled. */
export async function askWrapUp(app, win) {
  let config;
  try {
    config = await wrapUpCodes(app.api);
  } catch {
    return {}; // the server decides; a required code comes back as a clear error
  }
  if (!config.codes.length) return {};
  return new Promise((resolve) => {
    const id = `case-${win.id}-wrap`;
    const select = h("select", { id: `${id}-code`, class: "wrap-up-code", required: config.required },
      config.required ? h("option", { value: "" }, "Choose a wrap-up code…") : h("option", { value: "" }, "No code"),
      ...config.codes.map((code) => h("option", { value: code }, code)));
    const summary = h("textarea", { id: `${id}-summary`, class: "wrap-up-summary", rows: "3", maxlength: "4000" });
    const error = h("p", { class: "field-error", role: "alert" });
    const dialog = h("dialog", { class: "wrap-up-dialog", "aria-labelledby": `${id}-title` });
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    replaceChildren(dialog,
      h("form", {
        method: "dialog", class: "wrap-up-form",
        onsubmit: (e) => {
          e.preventDefault();
          if (config.required && !select.value) {
            error.textContent = "Choose a wrap-up code to close this case.";
            select.focus();
            return;
          }
          const body = {};
          if (select.value) body.wrap_up = select.value;
          if (summary.value.trim()) body.summary = summary.value.trim();
          finish(body);
        },
      },
      h("h2", { id: `${id}-title` }, `Close case #${win.id}`),
      h("label", { for: `${id}-code` }, "Wrap-up code"), select,
      h("label", { for: `${id}-summary` }, "Summary (optional)"), summary,
      error,
      h("div", { class: "row" },
        h("button", { type: "submit", class: "primary wrap-up-confirm" }, "Close case"),
        h("button", { type: "button", class: "wrap-up-cancel", onclick: () => finish(null) }, "Cancel"))));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); finish(null); });
    win.panel.appendChild(dialog);
    dialog.showModal();
    select.focus();
  });
}
