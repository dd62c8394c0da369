// Telling the agent things: the ARIA live regions, banners that stay while a condition lasts,
// and short-lived notes.

import { h, replaceChildren } from "./dom.js";

const FLASH_MS = 8000;
const KEPT_ANNOUNCEMENTS = 5;

/** Polite: read out by screen readers when they are idle (new messages, answers). */
export function announce(text) {
  const live = document.getElementById("announcer");
  live.appendChild(h("p", {}, text));
  while (live.childNodes.length > KEPT_ANNOUNCEMENTS) live.removeChild(live.firstChild);
}

/** Assertive: interrupts (a new request is ringing). */
export function alertNow(text) {
  replaceChildren(document.getElementById("alerter"), h("p", {}, text));
}

export function setBanner(key, kind, text, ...extra) {
  let banner = document.querySelector(`[data-banner="${key}"]`);
  if (!banner) {
    banner = h("div", { role: kind === "error" ? "alert" : "status", dataset: { banner: key } });
    document.getElementById("banners").appendChild(banner);
  }
  banner.className = `banner banner-${kind}`;
  replaceChildren(banner, h("span", {}, text), ...extra);
}

export function clearBanner(key) {
  document.querySelector(`[data-banner="${key}"]`)?.remove();
}

export function flash(text, kind = "info") {
  const key = `flash-${Math.random().toString(36).slice(2)}`;
  setBanner(key, kind, text, h("button", {
    type: "button", class: "dismiss", "aria-label": "Dismiss", onclick: () => clearBanner(key),
  }, "×"));
  setTimeout(() => clearBanner(key), FLASH_MS);
}
