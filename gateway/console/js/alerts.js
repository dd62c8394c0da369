// Making a waiting request hard to miss: a ring that repeats until every request is
// answered, and a desktop notification when the console's tab is hidden. Browsers allow
// sound only after a click on the page, hence enable() on the login click or a button; the
// choice is remembered, so after a reload the ring comes back on its own where the browser
// allows it, and `blocked` says when one click is needed.

import { h } from "./dom.js";
import { clearBanner, setBanner } from "./feedback.js";

const SOUND_URL = "/console/alert.wav";
const CHIME_VOLUME = 0.5;
const WANTED_KEY = "sms-console-sound";

export class Alerts {
  constructor({ onStateChange }) {
    this.onStateChange = onStateChange || (() => {});
    this.ring = new Audio(SOUND_URL);
    this.ring.loop = true;
    this.ring.preload = "auto";
    this.chime = new Audio(SOUND_URL);
    this.chime.volume = CHIME_VOLUME;
    this.soundEnabled = false;
    this.wanted = localStorage.getItem(WANTED_KEY) === "1";
    this.muted = localStorage.getItem("sms-console-muted") === "1";
    this.ringing = false;
    this.notified = new Set();
  }

  /** The agent wanted sound but the browser blocks it until a click on the page. */
  get blocked() {
    return this.wanted && !this.soundEnabled;
  }

  async _unlock() {
    try {
      this.ring.muted = true;
      await this.ring.play();
      this.ring.pause();
      this.ring.currentTime = 0;
      this.ring.muted = false;
      this.soundEnabled = true;
    } catch {
      this.ring.muted = false;
      this.soundEnabled = false;
    }
  }

  /** After a reload: turn the ring back on if the agent had it on and the browser allows. */
  async restore() {
    if (this.wanted && !this.soundEnabled) await this._unlock();
    this._apply();
    this.onStateChange();
  }

  /** Call from a click handler: unlocks audio and asks for notification permission. */
  async enable() {
    await this._unlock();
    if (this.soundEnabled) {
      this.wanted = true;
      localStorage.setItem(WANTED_KEY, "1");
    }
    if ("Notification" in window && Notification.permission === "default") {
      try {
        await Notification.requestPermission();
      } catch {
        // Permission prompts can be blocked; the ring and the title still work.
      }
    }
    this._apply();
    this.onStateChange();
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem("sms-console-muted", muted ? "1" : "0");
    this._apply();
    this.onStateChange();
  }

  /** Ring while `waiting` > 0; notify once per request shown when the page is hidden. */
  update(requests, waiting = requests.length) {
    this.ringing = waiting > 0;
    for (const request of requests) {
      if (this.notified.has(request.id)) continue;
      this.notified.add(request.id);
      if (document.hidden) this._notify(request);
    }
    this._apply();
  }

  /** A single short sound for a new message in an open case. */
  blip() {
    if (!this.soundEnabled || this.muted || this.ringing) return;
    this.chime.currentTime = 0;
    this.chime.play().catch(() => {});
  }

  _apply() {
    const shouldPlay = this.ringing && this.soundEnabled && !this.muted;
    if (shouldPlay && this.ring.paused) {
      this.ring.play().catch(() => {
        this.soundEnabled = false;
        this.onStateChange();
      });
    } else if (!shouldPlay && !this.ring.paused) {
      this.ring.pause();
      this.ring.currentTime = 0;
    }
  }

  get playing() {
    return !this.ring.paused;
  }

  _notify(request) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const lineName = request.line ? request.line.name : "";
      const notification = new Notification(`${request.name}: ${request.call_id}`, {
        body: `${lineName ? `Line ${lineName}. ` : ""}${request.preview || ""}`.slice(0, 200),
        tag: `sms-request-${request.id}`,
        requireInteraction: true,
      });
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
    } catch {
      // Some platforms only allow notifications from a service worker.
    }
  }
}

/** The sound button's state, and a banner with one button while the browser blocks the ring. */
export function renderSound(app, button) {
  const alerts = app.alerts;
  if (app.user && alerts.blocked) {
    setBanner("sound", "warning",
      "🔇 The browser blocks the ring until you click on the page: waiting customers would not be heard.",
      h("button", { type: "button", class: "primary sound-restore", onclick: () => alerts.enable() },
        "Turn the ring back on"));
  } else {
    clearBanner("sound");
  }
  const [text, attention, pressed] = !alerts.soundEnabled ? ["Enable sound", true, false]
    : alerts.muted ? ["Sound: off", false, false] : ["Sound: on", false, true];
  button.textContent = text;
  button.className = attention ? "sound attention" : "sound";
  button.setAttribute("aria-pressed", pressed ? "true" : "false");
}
