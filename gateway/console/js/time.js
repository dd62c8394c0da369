// Times as agents read them: "3 min" ages, "1:05" waiting timers, exact times on hover.

/** ISO 8601 from the server -> epoch ms; a time without a zone is UTC. */
export function parseTime(value) {
  if (!value) return null;
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/** How long ago, short: "now", "1 min", "3 min", "2 h 5 min", "3 d". */
export function formatAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 45) return "now";
  const min = Math.max(1, Math.round(s / 60));
  if (min < 60) return `${min} min`;
  const hours = Math.floor(s / 3600);
  if (hours < 24) {
    const rest = Math.floor((s % 3600) / 60);
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  return `${Math.floor(hours / 24)} d`;
}

/** "now", "3 min ago": an age as a phrase. */
export function formatAgo(ms) {
  const age = formatAge(ms);
  return age === "now" ? "now" : `${age} ago`;
}

/** A ticking waiting timer: "0:07", "1:05", "1:02:03". */
export function formatWait(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, "0");
  if (hours) return `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`;
  return `${minutes}:${seconds}`;
}

/** A duration from the start of something: "+45 s", "+3 min", "+2 h 5 min". */
export function formatOffset(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `+${s} s`;
  if (s < 3600) return `+${Math.floor(s / 60)} min`;
  const rest = Math.floor((s % 3600) / 60);
  return `+${Math.floor(s / 3600)} h${rest ? ` ${rest} min` : ""}`;
}

export function exactTime(ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(ms);
  return d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function clockTime(ms) {
  if (ms === null || ms === undefined) return "";
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/**
 * Every element with data-age-from (epoch ms) shows its age; data-wait-from shows a waiting
 * timer. One ticker updates them all, so ages stay live without re-rendering anything.
 */
export function refreshTimes(root = document, now = Date.now()) {
  for (const el of root.querySelectorAll("[data-age-from]")) {
    const label = formatAgo(now - Number(el.dataset.ageFrom));
    if (el.textContent !== label) el.textContent = label;
  }
  for (const el of root.querySelectorAll("[data-wait-from]")) {
    const text = formatWait(now - Number(el.dataset.waitFrom));
    if (el.textContent !== text) el.textContent = text;
  }
}
