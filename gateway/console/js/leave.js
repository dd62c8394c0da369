// Logging out with open cases: for each, the agent keeps it (it waits for their return, and
// rings the others if the customer writes while they are away) or hands it back to the queue.

import { h, replaceChildren } from "./dom.js";

/** Resolves with the ids to hand back, or null when the agent cancels. */
export function askOpenCases(host, cases) {
  return new Promise((resolve) => {
    const rows = cases.map((c) => {
      const name = `leave-${c.id}`;
      return h("fieldset", { class: "leave-case", dataset: { caseId: String(c.id) } },
        h("legend", {}, `Case #${c.id} with ${c.phone}`),
        h("label", {}, h("input", { type: "radio", name, value: "keep", checked: true }), " Keep it"),
        h("label", {}, h("input", { type: "radio", name, value: "handback" }),
          " Hand it back to the queue"));
    });
    const onKey = (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        finish(null); // as Cancel: nothing is handed back, the agent stays logged in
      }
    };
    const finish = (result) => {
      document.removeEventListener("keydown", onKey);
      replaceChildren(host);
      host.hidden = true;
      resolve(result);
    };
    document.addEventListener("keydown", onKey);
    const form = h("form", {
      class: "leave-form", "aria-labelledby": "leave-title",
      onsubmit: (event) => {
        event.preventDefault();
        finish(cases.filter((c) => form.querySelector(`input[name="leave-${c.id}"]:checked`)?.value === "handback")
          .map((c) => c.id));
      },
    },
    h("h2", { id: "leave-title" }, "You have open cases"),
    h("p", {}, "Keep a case to come back to it (if its customer writes while you are away, the other agents are asked to answer at once), or hand it back so another agent continues it now. Escape cancels."),
    ...rows,
    h("div", { class: "leave-actions" },
      h("button", { type: "submit", class: "primary leave-confirm" }, "Log out"),
      h("button", { type: "button", class: "leave-cancel", onclick: () => finish(null) }, "Cancel")));
    replaceChildren(host, form);
    host.hidden = false;
    form.querySelector("input")?.focus();
  });
}

/** Before logging out: ask about the agent's open cases and hand back the chosen ones.
 * False when the agent cancels, or a hand-back failed (then nothing more is done). */
export async function handBackOrKeep(app, host) {
  const open = app.order.map((id) => app.windows.get(id)?.case)
    .filter((c) => c && c.status === "open" && c.agent_id === app.user?.id);
  if (!open.length) return true;
  const handBack = await askOpenCases(host, open);
  if (handBack === null) return false;
  for (const id of handBack) {
    try {
      await app.api.handBack(id);
    } catch (error) {
      app.flash(`Case #${id} could not be handed back (${error.message}); it stays yours.`, "error");
      return false;
    }
  }
  return true;
}
