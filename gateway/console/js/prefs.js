// What the console remembers per agent in this browser (localStorage): the order of the case
// tabs and the failed messages the agent chose not to resend; and, for this tab only
// (sessionStorage, gone when the tab closes or the agent logs out), unsent reply drafts, so a
// reload loses no typing. Storage may be full or disabled: then the console works without it.

const KEEP = 500;

export function loadIds(kind, username) {
  try {
    const ids = JSON.parse(localStorage.getItem(`sms-console-${kind}:${username}`) || "[]");
    return Array.isArray(ids) ? ids : [];
  } catch {
    return [];
  }
}

export function saveIds(kind, username, ids) {
  try {
    localStorage.setItem(`sms-console-${kind}:${username}`, JSON.stringify(ids.slice(-KEEP)));
  } catch {
    // Not remembered across a reload; nothing else depends on it.
  }
}

const DRAFT = "sms-console-draft:";

export function loadDraft(username, caseId) {
  try {
    return sessionStorage.getItem(`${DRAFT}${username}:${caseId}`) || "";
  } catch {
    return "";
  }
}

export function saveDraft(username, caseId, text) {
  try {
    const key = `${DRAFT}${username}:${caseId}`;
    if (text) sessionStorage.setItem(key, text);
    else sessionStorage.removeItem(key);
  } catch {
    // Not kept across a reload; nothing else depends on it.
  }
}

/** On logout: no customer's words are left behind in the browser. */
export function forgetDrafts() {
  try {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(DRAFT)) sessionStorage.removeItem(key);
    }
  } catch {
    // Nothing was kept.
  }
}
