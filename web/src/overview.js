// The sensor overview: a row per sensor the filter covers, kept live by ONE subscribeMany of @sensorhub/client on the
// filter's pattern at RATE readings a second per sensor (patterns.js says how the filter box maps to a pattern). The
// library keeps that stream going across drops and failovers (a paced stream resumes live). listSensors gives the rows
// and their descriptive fields (name, unit) when the view opens, when its filter changes and after a reconnection; in
// between the stream alone moves values, times and sparklines, and a reading of a sensor not yet shown adds its row. Rows are keyed by sensor id and updated in place: a row's element, and its Open button, stay the same
// for as long as the row is on screen, so a click never lands on a button that is being replaced.
import { el, fmt, toDate } from "./dom.js";
import { textOf } from "./connection.js";
import { overviewFilter } from "./patterns.js";

/** Rows shown at most; readings of further sensors are dropped, and a last row says that the filter narrows. */
export const MAX_ROWS = 200;
/** Live readings a second per sensor: the overview is a glance, at the cadence its old poll had. */
export const RATE = 1;
const POINTS = 60;            // sparkline points per row: about the last minute at RATE
const LIST_PAGE = MAX_ROWS + 1; // one page fills the table and says whether more match (a plain prefix)
const LIST_PAGES = 10;        // pages looked through for a wildcard pattern whose matches are sparse under its prefix
const DEBOUNCE_MS = 300;      // typing in the filter box resubscribes once it pauses
const DESCRIBE_DELAY_MS = 200; // new sensors are described together
const FEW = 4;                // new sensors asked about one by one (and at once); more are listed
const SVG = "http://www.w3.org/2000/svg";

export class Overview {
  constructor({ hub, charts, table, filter, rate }) {
    Object.assign(this, { hub, charts, table, filter, rate });
    this.client = hub.client;
    this.rows = new Map();     // sensor id -> Row, for the rows on screen
    this.order = [];           // their ids, sorted (ordinal), as the table shows them
    this.generation = 0;       // each load (open, filter change, reconnect) is one; what an older one hears is stale
    this.spec = null;          // the filter in force: { text, pattern, listPrefix, accepts(id) }
    this.stream = null;        // the subscribeMany stream, closed when the filter changes or the view closes
    this.truncated = false;
    this.received = 0;         // readings taken from the stream, for the tests
    this.dirty = new Set();    // rows to draw at the next animation frame
    this.frame = 0;
    this.unknown = new Set();  // ids shown before their descriptive fields are known
    this.more = el("tr", { class: "more" },
      el("td", { colspan: 4 }, el("small", {}, `Not every matching sensor is shown (at most ${MAX_ROWS}): narrow the filter to see others.`)));
    this.status = el("p", { id: "overview-status", role: "status" });
    (filter.closest(".toolbar") ?? filter).after(this.status);
    filter.title = "An id prefix (plant-1/line-2/) or a pattern with the wildcards + and # (plant-1/+/temperature)";
    table.replaceChildren();

    this.onInput = () => { clearTimeout(this.debounce); this.debounce = setTimeout(() => this.load(), DEBOUNCE_MS); };
    filter.addEventListener("input", this.onInput);
    // A fresh connection (the first, a restart with another identity) loads: list, then subscribe. A restart ends
    // the library's streams: the stream is closed before it (no error to show) and opened again by that load. A
    // reconnection lists again (names, newest values), while the library resubscribes the stream by itself; a stream
    // that had ended (a refusal) is opened again then, as a filter change would.
    this.offState = hub.onState(state => {
      if (state === "connected") this.requestLoad();
      if (state === "reconnecting" && this.stream) this.showStatus("waiting for the connection");
    });
    this.offReconnected = hub.onReconnected(() => this.requestLoad(this.stream !== null));
    this.offRestart = hub.onRestart(phase => { if (phase === "stopping") this.closeStream(); });
  }

  /** Loads at the next tick (several causes at once load once); `relistOnly` keeps the stream as it is. */
  requestLoad(relistOnly = false) {
    if (this.closed) return;
    this.relistOnly = (this.loadTimer ? this.relistOnly : true) && relistOnly;
    if (this.loadTimer) return;
    this.loadTimer = setTimeout(() => { this.loadTimer = null; this.load({ relistOnly: this.relistOnly }); }, 0);
  }

  closeStream() {
    this.stream?.close();
    this.stream = null;
  }

  /**
   * Lists the sensors the filter covers, then opens the one stream (`relistOnly`: the stream stays, as after a
   * reconnection). The stream is paced, so the library resumes it live rather than from each row's last sequence + 1:
   * the overview shows the newest value of each sensor at RATE, and the listing gives every row its newest reading,
   * so a replay of what was missed would only be thinned out again; with many sensors and a long outage it would also
   * be the largest burst the page ever takes (a replay is not paced).
   */
  async load({ relistOnly = false } = {}) {
    if (this.closed) return;
    clearTimeout(this.debounce);
    if (relistOnly && this.stream === null) relistOnly = false;
    // A relisting keeps the generation: the stream it keeps is that generation's.
    const generation = relistOnly ? this.generation : ++this.generation;
    const current = () => generation === this.generation && !this.closed;
    this.unknown.clear(); // the listing describes every row it shows
    if (!relistOnly) this.closeStream();
    const spec = relistOnly ? this.spec : overviewFilter(this.filter.value);
    this.spec = spec;
    this.showStatus(null);
    for (const id of [...this.order]) if (!spec.accepts(id)) this.removeRow(id);
    // Not connected: the connection's return loads again.
    if (!this.hub.isConnected) return;
    let listed;
    try {
      listed = spec.listPrefix === null ? { sensors: [], more: false } : await this.list(spec, current);
    } catch (error) {
      if (current()) this.onError(error, generation);
      return;
    }
    if (!current()) return;
    const shown = new Set(listed.sensors.map(s => s.id));
    for (const id of [...this.order]) if (!shown.has(id)) this.removeRow(id);
    for (const info of listed.sensors) this.touch(this.rows.get(info.id) ?? this.addRow(info.id), row => row.describe(info, true));
    this.setTruncated(listed.more);
    if (!relistOnly) this.subscribe(spec, generation);
  }

  /** The first MAX_ROWS sensors the filter covers, in id order, and whether more may match. */
  async list(spec, current) {
    const found = [];
    let after = null;
    for (let page = 0; page < LIST_PAGES; page++) {
      const answer = await this.client.listSensors({ prefix: spec.listPrefix, after, limit: LIST_PAGE });
      if (!current()) return { sensors: [], more: false };
      for (const info of answer.sensors) {
        if (!spec.accepts(info.id)) continue;
        if (found.length === MAX_ROWS) return { sensors: found, more: true };
        found.push(info);
      }
      if (answer.next === null || answer.next === undefined) return { sensors: found, more: false };
      after = answer.next;
    }
    // A pattern whose matches are sparse under its prefix: stop looking; the stream adds the rows it brings.
    return { sensors: found, more: false };
  }

  subscribe(spec, generation) {
    this.stream = this.client.subscribeMany(spec.pattern, {
      maxRate: RATE,
      onReading: reading => { if (generation === this.generation) this.take(reading); },
      onError: error => {
        if (generation !== this.generation) return;
        this.stream = null;
        this.onError(error);
      },
    });
  }

  /**
   * A listing's or the stream's error. Drops and backend_unavailable never come here (the library resumes them). A
   * refusal (a malformed pattern: invalid_argument; too many streams; not allowed) is shown once, near the filter, and
   * not retried: the same filter would be refused again. Changing the filter, or a reconnection, tries again. An error
   * without a code is a fault of the server's, shown as well.
   */
  onError(error) {
    this.showStatus(textOf(error), error?.code ?? "");
  }

  /** One reading of the stream, of a sensor the filter may cover: the newest of that sensor at its moment. */
  take(reading) {
    const id = reading.sensorId;
    if (!this.spec.accepts(id)) return; // a prefix that ends inside a level streams that level's siblings too
    this.received++;
    let row = this.rows.get(id);
    if (!row) {
      if (this.rows.size >= MAX_ROWS) { this.setTruncated(true); return; }
      row = this.addRow(id);
      this.describeLater(id);
    }
    this.touch(row, r => r.take(reading));
  }

  /** Runs `change` on a row and draws the row at the next frame if it changed: many readings, one draw. */
  touch(row, change) {
    if (!change(row)) return;
    this.dirty.add(row);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const r of this.dirty) r.draw();
      this.dirty.clear();
    });
  }

  /**
   * A sensor that the listing did not have (it began to publish later) shows its id until ListSensors describes it.
   * New ids are gathered for a moment: a few are asked one by one (prefix = the id, limit 1: the first id under a
   * prefix, in ordinal order, is the prefix itself when it is a sensor's id), many (a fleet appearing at once) by the
   * pages of the filter's listing that span them, and only those these did not cover one by one, a few at a time.
   */
  describeLater(id) {
    this.unknown.add(id);
    if (this.describeTimer || this.describing || this.closed) return;
    this.describeTimer = setTimeout(() => this.describeNew(), DESCRIBE_DELAY_MS);
  }

  async describeNew() {
    this.describeTimer = null;
    const generation = this.generation;
    const current = () => generation === this.generation && !this.closed;
    const describe = infos => {
      for (const info of infos) {
        const row = this.rows.get(info.id);
        if (row && !row.described) this.touch(row, r => r.describe(info, false));
      }
    };
    const ask = id => this.client.listSensors({ prefix: id, after: null, limit: 1 }).then(page => page.sensors.filter(s => s.id === id));
    this.describing = true;
    try {
      while (this.unknown.size > 0 && current()) {
        let ids = [...this.unknown].filter(id => this.rows.has(id));
        this.unknown.clear();
        if (ids.length > FEW) {
          // Pages of the filter's listing from the row before the first new id, until they pass the last one.
          ids.sort();
          const wanted = new Set(ids);
          const before = this.order.indexOf(ids[0]) - 1;
          let after = before >= 0 ? this.order[before] : null;
          for (let page = 0; page < LIST_PAGES && wanted.size > 0; page++) {
            const answer = await this.client.listSensors({ prefix: this.spec.listPrefix, after, limit: LIST_PAGE });
            if (!current()) return;
            describe(answer.sensors.filter(info => wanted.delete(info.id)));
            after = answer.next ?? null;
            if (after === null || after >= ids.at(-1)) break;
          }
          ids = ids.filter(id => !this.rows.get(id)?.described);
        }
        for (let i = 0; i < ids.length && current(); i += FEW) {
          const infos = (await Promise.all(ids.slice(i, i + FEW).map(ask))).flat();
          if (current()) describe(infos);
        }
      }
    } catch {
      // Those left show their ids; the next listing (a reconnection, a filter change) describes them.
      this.unknown.clear();
    } finally {
      this.describing = false;
      // Ids that came while an older load's questions ran.
      if (this.unknown.size > 0 && !this.describeTimer && !this.closed) this.describeTimer = setTimeout(() => this.describeNew(), DESCRIBE_DELAY_MS);
    }
  }

  addRow(id) {
    const row = new Row(id, () => this.charts.open(id, { maxRate: this.rate.value === "none" ? null : Number(this.rate.value) }));
    let index = this.order.length;
    while (index > 0 && this.order[index - 1] > id) index--;
    const before = index < this.order.length ? this.rows.get(this.order[index]).tr : (this.more.isConnected ? this.more : null);
    this.order.splice(index, 0, id);
    this.rows.set(id, row);
    this.table.insertBefore(row.tr, before);
    return row;
  }

  removeRow(id) {
    const row = this.rows.get(id);
    if (!row) return;
    row.tr.remove();
    this.rows.delete(id);
    this.dirty.delete(row);
    this.order.splice(this.order.indexOf(id), 1);
  }

  setTruncated(truncated) {
    this.truncated = truncated;
    if (truncated && !this.more.isConnected) this.table.append(this.more);
    if (!truncated) this.more.remove();
  }

  /** What the page says about the stream, under the filter: null clears it; `code` marks a refusal (tests read it). */
  showStatus(text, code = null) {
    this.status.textContent = text ?? "";
    if (code === null) delete this.status.dataset.code;
    else this.status.dataset.code = code;
  }

  /** Closes the view: disposes its stream (the server's generator ends) and forgets its rows. */
  close() {
    this.closed = true;
    this.generation++;
    clearTimeout(this.debounce);
    clearTimeout(this.loadTimer);
    clearTimeout(this.describeTimer);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.closeStream();
    this.filter.removeEventListener("input", this.onInput);
    this.offState();
    this.offReconnected();
    this.offRestart();
    for (const id of [...this.order]) this.removeRow(id);
    this.setTruncated(false);
    this.showStatus(null);
  }

  /** What the tests read. */
  snapshot() {
    return { filter: this.spec?.text ?? null, pattern: this.spec?.pattern ?? null, ids: this.order.slice(), received: this.received, live: this.stream !== null,
      truncated: this.truncated, closed: this.closed === true };
  }
}

/** One sensor's row. Its elements are made once; what changes is their text and the sparkline's points. */
class Row {
  constructor(id, onOpen) {
    this.id = id;
    this.described = false;
    this.lastSequence = null; // of the newest reading shown
    this.value = null;
    this.time = null;
    this.values = [];         // the sparkline, at most POINTS
    this.nameText = el("small", {}, "");
    this.valueText = el("span", { class: "reading" }, fmt(null));
    this.unitText = el("span", { class: "unit" }, "");
    this.timeText = el("time", {}, "");
    this.polyline = document.createElementNS(SVG, "polyline");
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 100 24"); svg.setAttribute("class", "spark"); svg.setAttribute("aria-hidden", "true");
    svg.append(this.polyline);
    this.tr = el("tr", { dataset: { sensor: id } },
      el("td", {}, el("span", { class: "id" }, id), this.nameText),
      el("td", { class: "value" }, this.valueText, " ", this.unitText, this.timeText),
      el("td", { class: "spark" }, svg),
      el("td", {}, el("button", { type: "button", onclick: onOpen }, "Open")));
  }

  /**
   * Takes a sensor's descriptive fields from ListSensors, and with `withReading` its newest reading too: a listing
   * made before the stream opened is the newest there was, and its numbering is the server's now (a restarted
   * in-memory server numbers afresh), so it replaces the row's position.
   */
  describe(info, withReading) {
    this.described = true;
    this.name = info.name && info.name !== info.id ? info.name : "";
    this.unit = info.unit ?? "";
    if (withReading && info.lastValue !== null && info.lastValue !== undefined) {
      const sequence = Number(info.lastSequence);
      if (sequence !== this.lastSequence) this.values.push(info.lastValue);
      this.lastSequence = sequence;
      this.value = info.lastValue;
      this.time = info.lastTimestamp;
      this.trim();
    }
    return true;
  }

  /** Takes a reading of the stream; false for one at or below the newest shown. */
  take(reading) {
    const sequence = Number(reading.sequence);
    if (this.lastSequence !== null && sequence <= this.lastSequence) return false;
    this.lastSequence = sequence;
    this.value = reading.value;
    this.time = reading.timestamp;
    this.values.push(reading.value);
    this.trim();
    return true;
  }

  trim() { if (this.values.length > POINTS) this.values.splice(0, this.values.length - POINTS); }

  draw() {
    this.nameText.textContent = this.name ?? "";
    this.valueText.textContent = fmt(this.value);
    this.unitText.textContent = this.unit ?? "";
    const at = this.time === null || this.time === undefined ? null : toDate(this.time);
    this.timeText.textContent = at ? at.toLocaleTimeString() : "";
    if (at) this.timeText.dateTime = at.toISOString();
    this.tr.dataset.sequence = String(this.lastSequence ?? "");
    const v = this.values;
    if (v.length > 1) {
      const min = Math.min(...v), max = Math.max(...v), span = max - min || 1;
      this.polyline.setAttribute("points", v.map((y, i) => `${((i / (v.length - 1)) * 100).toFixed(1)},${(22 - ((y - min) / span) * 20).toFixed(1)}`).join(" "));
    }
  }
}
