// The waiting-request queue as the console holds it: the whole queue's count and its oldest
// request, as the server last said, and only a window of the oldest requests. A flood of
// thousands of texts stays on the server instead of becoming thousands of nodes in the page.
// Live events change the queue at once where they say enough (one more or one fewer waiting,
// a request in the window answered or overdue); what they do not carry (a new request's preview,
// round-robin offers) comes with one fetch of the window, at most every SYNC_MS.

export const WINDOW = 50;
export const MAX_WINDOW = 500; // the API's largest page
const SYNC_MS = 500;

export class RequestQueue {
  /** api: the Api; onChange(what): "list" when the window changed, "count" when only the count. */
  constructor({ api, onChange }) {
    this.api = api;
    this.onChange = onChange;
    this.user = null;
    this.reset();
  }

  reset() {
    this.requests = [];
    this.count = 0;
    this.oldest = null;
    this.hasMore = false;
    this.size = WINDOW;
    this.loading = null;
    this.dirty = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.lastSync = 0;
    this.filtered = false; // round-robin offers seen: an agent's queue is not everyone's
    this.answered = new Set();
  }

  /** Fetch the window now (and once more after, if events came in meanwhile). */
  async load() {
    if (this.loading) {
      this.dirty = true;
      return this.loading;
    }
    this.dirty = false;
    this.lastSync = performance.now();
    this.loading = this.api.requests(this.size).then((page) => {
      this.requests = page.requests || [];
      this.count = page.count ?? this.requests.length;
      this.oldest = page.oldest ?? this.requests[0] ?? null;
      this.hasMore = Boolean(page.has_more);
      this.onChange("list");
    }).finally(() => {
      this.loading = null;
      if (this.dirty) this.sync();
    });
    return this.loading;
  }

  /** Fetch the window soon: at most one fetch every SYNC_MS, however many events ask. */
  sync() {
    if (this.loading) {
      this.dirty = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastSync + SYNC_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load().catch(() => {});
    }, wait);
  }

  showMore() {
    this.size = Math.min(MAX_WINDOW, this.size + WINDOW);
    return this.load();
  }

  /** Taken off the queue here (this agent answered it); the event that follows finds it gone. */
  remove(id) {
    const before = this.requests.length;
    this.requests = this.requests.filter((r) => r.id !== id);
    if (this.requests.length === before) return;
    this.count = Math.max(0, this.count - 1);
    this.answered.add(id);
    this._refreshOldest();
    this.onChange("list");
    this.sync();
  }

  _refreshOldest() {
    if (this.oldest && !this.requests.some((r) => r.id === this.oldest.id)) {
      this.oldest = this.requests[0] ?? null;
      if (this.oldest === null && this.count > 0) this.sync();
    }
  }

  /** Whether this console sees every request (no round-robin filtering for it). */
  _seesAll(data) {
    return this.user?.role !== "agent" || data.offered_to === undefined || data.offered_to === null;
  }

  onEvent(type, data) {
    // The page being fetched may or may not include this event's change: ask once more after.
    if (this.loading) this.dirty = true;
    const id = data.request_id;
    const index = this.requests.findIndex((r) => r.id === id);
    if (data.offered_to !== undefined || type === "request.offered") this.filtered = true;
    if (type === "request.created") {
      if (!this._seesAll(data) && data.offered_to !== this.user?.id) {
        this.sync(); // offered to someone else: it shows here only if it comes back
        return;
      }
      this.count += 1;
      if (this.requests.length < this.size) this.sync(); // it belongs in the window
      else this.onChange("count");
    } else if (type === "request.answered" || type === "request.cancelled") {
      if (this.answered.delete(id)) return; // already taken off by remove()
      if (index >= 0) {
        this.requests.splice(index, 1);
        this.count = Math.max(0, this.count - 1);
        this._refreshOldest();
        this.onChange("list");
        if (this.hasMore || this.count > this.requests.length) this.sync(); // refill the window
      } else if (this.requests.length < this.count) {
        if (this.filtered) {
          this.sync(); // round robin: was it in this agent's queue? The server knows.
        } else {
          this.count -= 1; // beyond the window
          this.onChange("count");
        }
      }
    } else if (type === "request.overdue") {
      if (index >= 0) {
        this.requests[index] = { ...this.requests[index], overdue: true };
        this.onChange("list");
      } else if (this.user?.role === "agent") {
        this.sync(); // round robin: overdue requests show to every agent
      }
    } else if (type === "request.updated") {
      if (index >= 0) this.sync(); // a further text: a new preview
    } else {
      this.sync(); // request.offered and anything newer
    }
  }
}
