// What the console remembers per agent in this browser (localStorage): the order of the case
// tabs and the failed messages the agent chose not to resend. Storage may be full or disabled:
// then the console works without it.

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
