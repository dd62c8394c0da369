// The live event stream (GET /api/events websocket). Reconnects with capped backoff and asks
// for every event after the last one it saw (?since=N), so a console that lost its network
// misses nothing; the server answers "resync" when N is too old, and the app reloads.

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const MAX_BACKOFF_MS = 10000;
const PING_EVERY_MS = 20000;
const SILENCE_LIMIT_MS = 45000;

export class EventStream {
  /**
   * onEvent(event), onReady({replayed, missed, reconnected}), onResync(), onDown(),
   * beforeReconnect(): a promise; rejecting stops reconnecting (e.g. the session ended).
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.lastSeq = null;
    this.ws = null;
    this.stopped = true;
    this.failures = 0;
    this.connectedOnce = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.missed = [];
    this.state = "idle";
    this._onOnline = () => this.reconnectNow();
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this._onOnline);
    this._connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this._onOnline);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, "logout");
    }
    this.state = "idle";
    // The next start is a new session (another login): not a reconnection of this one.
    this.connectedOnce = false;
    this.lastSeq = null;
    this.missed = [];
    this.failures = 0;
  }

  /** Skip the wait (the browser says the network is back, or the user asked). */
  reconnectNow() {
    if (this.stopped || this.state === "open" || this.state === "connecting") return;
    clearTimeout(this.retryTimer);
    this._connect();
  }

  _url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const since = this.lastSeq !== null ? `?since=${this.lastSeq}` : "";
    return `${scheme}//${location.host}/api/events${since}`;
  }

  _connect() {
    if (this.stopped) return;
    this.state = "connecting";
    this.missed = [];
    let ws;
    try {
      ws = new WebSocket(this._url());
    } catch {
      this._closed();
      return;
    }
    this.ws = ws;
    let ready = false;
    ws.onmessage = (message) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type === "pong") return;
      if (event.type === "ready") {
        ready = true;
        this.state = "open";
        const reconnected = this.connectedOnce;
        this.connectedOnce = true;
        this.failures = 0;
        if (typeof event.seq === "number") this.lastSeq = Math.max(this.lastSeq ?? 0, event.seq);
        this._startPings();
        this.handlers.onReady({ replayed: event.data?.replayed ?? 0, missed: this.missed, reconnected });
        this.missed = [];
        return;
      }
      if (event.type === "resync") {
        if (typeof event.seq === "number") this.lastSeq = event.seq;
        this.handlers.onResync();
        return;
      }
      if (typeof event.seq === "number") {
        if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
        this.lastSeq = event.seq;
      }
      if (!ready) this.missed.push(event);
      this.handlers.onEvent(event);
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this._closed();
    };
    ws.onerror = () => {
      // onclose follows and does the work.
    };
  }

  _startPings() {
    clearInterval(this.pingTimer);
    this.lastHeard = Date.now();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        this.ws.close(4000, "silent");
        this._closed();
        return;
      }
      this.ws.send("ping");
    }, PING_EVERY_MS);
  }

  _closed() {
    clearInterval(this.pingTimer);
    this.ws = null;
    if (this.stopped) return;
    const wasOpen = this.state === "open";
    this.state = "down";
    if (wasOpen || this.failures === 0) this.handlers.onDown();
    const delay = Math.min(BACKOFF_MS[this.failures] ?? MAX_BACKOFF_MS, MAX_BACKOFF_MS);
    this.failures += 1;
    const jitter = Math.random() * 0.2 * delay;
    this.retryTimer = setTimeout(async () => {
      if (this.stopped) return;
      try {
        await this.handlers.beforeReconnect();
      } catch {
        return; // the app decided: the session is over
      }
      this._connect();
    }, delay + jitter);
  }
}
