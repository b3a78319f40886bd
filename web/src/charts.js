// Live charts: one uPlot per open sensor, fed by a subscription of @sensorhub/client, drawn at most once per animation
// frame over a bounded window. The library keeps each subscription going across drops, failovers and restarts: it
// resubscribes from the last reading it delivered plus one, leaves out duplicates and reports what can no longer come
// as gaps, which the chart marks. What the chart notes itself is only what the page shows and the tests read: each
// resumption (the library's onResume, or the page's own after a restart with another identity) with the sequence it
// asked from, the last one shown then and the first that came.
import uPlot from "uplot";
import { el, toDate, fmt } from "./dom.js";
import { textOf } from "./connection.js";

const WINDOW = 2000; // points kept per chart

export class ChartManager {
  constructor({ hub, container, onChange = () => {} }) {
    this.hub = hub;
    this.container = container;
    this.onChange = onChange;
    this.charts = new Map();
    this.annotations = [];
    hub.onState(state => { if (state === "reconnecting") for (const chart of this.charts.values()) chart.waiting(); });
    // A restart ends every stream of the library: close them first (no error to show), reopen them once connected.
    hub.onRestart(phase => { for (const chart of this.charts.values()) phase === "stopping" ? chart.pause() : chart.reopen(); });
  }

  get ids() { return [...this.charts.keys()]; }

  open(sensorId, { maxRate = 20 } = {}) {
    if (this.charts.has(sensorId)) { this.charts.get(sensorId).root.querySelector("button")?.focus(); return this.charts.get(sensorId); }
    const chart = new LiveChart(this, sensorId, maxRate);
    this.charts.set(sensorId, chart);
    this.container.append(chart.root);
    chart.subscribe(null);
    this.onChange();
    return chart;
  }

  close(sensorId) {
    const chart = this.charts.get(sensorId);
    if (!chart) return;
    chart.close();
    this.charts.delete(sensorId);
    this.onChange();
  }

  setAnnotations(annotations) {
    this.annotations = annotations;
    for (const chart of this.charts.values()) chart.redraw();
  }
}

class LiveChart {
  constructor(manager, sensorId, maxRate) {
    this.manager = manager;
    this.sensorId = sensorId;
    this.maxRate = maxRate;
    this.xs = [];
    this.ys = [];
    this.lastSequence = null;
    this.received = 0;
    this.duplicates = 0;      // readings at or below the last shown: the library promises none; counted for the tests
    this.gaps = [];           // { at: seconds, from, to, cause } readings the library reported as never coming
    this.pendingGaps = [];    // reported, waiting for the reading after them (where the marker goes)
    this.resubscribes = [];   // { reason, from, after, first }: asked from (null: live), last shown then, first that came
    this.running = false;
    this.ended = null;
    this.pending = false;
    this.stream = null;

    this.status = el("span", { class: "chart-status", role: "status" }, "starting");
    this.stopButton = el("button", { type: "button", class: "stop", onclick: () => this.toggle() }, "Stop");
    const closeButton = el("button", { type: "button", class: "close", "aria-label": `Close ${sensorId}`,
      onclick: () => manager.close(sensorId) }, "Close");
    this.plotHost = el("div", { class: "plot" });
    this.root = el("article", { class: "chart card", dataset: { sensor: sensorId } },
      el("header", {}, el("h3", {}, sensorId), el("span", { class: "rate" }, maxRate ? `≤ ${maxRate}/s` : "every reading"),
        this.status, this.stopButton, closeButton),
      this.plotHost);

    const width = () => Math.max(240, this.plotHost.clientWidth || this.manager.container.clientWidth - 32 || 600);
    this.plot = new uPlot({
      width: width(), height: 180,
      series: [{}, { label: sensorId, stroke: "#1f6feb", width: 1.5, points: { show: false } }],
      axes: [{}, { size: 70 }],
      legend: { show: false },
      hooks: { draw: [u => this.drawMarkers(u)] },
    }, [[], []], this.plotHost);
    this.resize = () => this.plot.setSize({ width: width(), height: 180 });
    window.addEventListener("resize", this.resize);
    requestAnimationFrame(this.resize);
  }

  subscribe(fromSequence) {
    this.running = true;
    this.ended = null;
    this.stopButton.textContent = "Stop";
    this.status.textContent = fromSequence === null ? "live" : `resuming from ${fromSequence}`;
    this.stream = this.manager.hub.client.subscribe(this.sensorId, {
      fromSequence, maxRate: this.maxRate,
      onReading: reading => this.add(reading),
      onGap: gap => this.pendingGaps.push(gap),
      // The library reopened the stream (a drop, a failover, backend_unavailable): from the last reading plus one, or
      // live for a paced chart (a replay of what it skipped would come unpaced).
      onResume: info => this.#noteResume(info.reason, info.fromSequence ?? null),
      // A refusal (unknown sensor, not allowed, too many streams) or a fault of the server's ends the feed: the same
      // subscription would be refused again. Drops and backend_unavailable never come here: the library resumes them.
      onError: error => this.fail(error),
    });
  }

  /** Notes a resumption from `from` (null: live); the first reading after it closes the note. */
  #noteResume(reason, from) {
    this.resubscribes.push({ reason, from, after: this.lastSequence, first: null });
    this.status.textContent = from === null ? "resuming live" : `resuming from ${from}`;
  }

  /**
   * Where a reopened subscription starts (after a restart, or Start after Stop): the one after the last shown; live
   * before any, and live for a paced chart, by the library's own rule for its resumptions (a replay of what a paced
   * chart skipped would come unpaced).
   */
  get #next() { return this.lastSequence === null || this.maxRate !== null ? null : this.lastSequence + 1; }

  /** The connection dropped: the library reconnects and resumes. */
  waiting() { if (this.running && this.stream) this.status.textContent = "waiting for the connection"; }

  /** Before a restart: the stream is closed, the chart stays running. */
  pause() {
    this.stream?.close();
    this.stream = null;
  }

  /** After a restart: a new subscription from the first sequence not yet shown. */
  reopen() {
    if (!this.running) return;
    this.#noteResume("restart", this.#next);
    this.subscribe(this.#next);
  }

  fail(error) {
    this.running = false;
    this.stream = null;
    this.ended = textOf(error);
    this.status.textContent = `error: ${this.ended}`;
    this.stopButton.textContent = "Start";
  }

  add(reading) {
    const sequence = Number(reading.sequence);
    const t = toDate(reading.timestamp).getTime() / 1000;
    for (const gap of this.pendingGaps.splice(0)) this.gaps.push({ at: t, from: gap.fromSequence, to: gap.toSequence, count: gap.count, cause: gap.cause });
    const seam = this.resubscribes.at(-1);
    if (seam && seam.first === null) {
      seam.first = sequence;
      this.status.textContent = "live";
    }
    if (this.lastSequence !== null && sequence <= this.lastSequence) { this.duplicates++; return; }
    this.lastSequence = sequence;
    this.lastValue = reading.value;
    this.received++;
    this.xs.push(t);
    this.ys.push(reading.value);
    if (this.xs.length > WINDOW) { this.xs.splice(0, this.xs.length - WINDOW); this.ys.splice(0, this.ys.length - WINDOW); }
    this.redraw();
  }

  /** Coalesces every reading that arrives within one frame into one draw. */
  redraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot.setData([this.xs, this.ys]);
      this.root.dataset.received = String(this.received);
      this.root.dataset.lastSequence = String(this.lastSequence ?? "");
      this.root.querySelector(".rate").title = `last value ${fmt(this.lastValue)}`;
    });
  }

  drawMarkers(u) {
    const ctx = u.ctx;
    const [min, max] = [u.scales.x.min, u.scales.x.max];
    const line = (t, color, label) => {
      if (t < min || t > max) return;
      const x = Math.round(u.valToPos(t, "x", true));
      ctx.save();
      ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2 * devicePixelRatio;
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.font = `${11 * devicePixelRatio}px system-ui`;
      ctx.fillText(label, x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
      ctx.restore();
    };
    // A restart's jump is no count of readings: its gap says so rather than a number.
    for (const gap of this.gaps) line(gap.at, "#d1242f", gap.count === null ? "gap (restart)" : `gap ${gap.count}`);
    for (const a of this.manager.annotations) {
      if (a.sensorId && a.sensorId !== this.sensorId) continue;
      line(toDate(a.time).getTime() / 1000, "#9a6700", a.text.slice(0, 24));
    }
  }

  toggle() {
    if (this.running) { this.stop(); return; }
    this.#noteResume("start", this.#next);
    this.subscribe(this.#next);
  }

  /** Closes the subscription: the library disposes the server's stream at once. */
  stop() {
    this.running = false;
    this.stream?.close();
    this.stream = null;
    this.status.textContent = "stopped";
    this.stopButton.textContent = "Start";
  }

  close() {
    this.stop();
    window.removeEventListener("resize", this.resize);
    this.plot.destroy();
    this.root.remove();
  }

  /** What the tests read. */
  snapshot() {
    return { sensorId: this.sensorId, maxRate: this.maxRate, received: this.received, lastSequence: this.lastSequence,
      gaps: this.gaps.map(g => ({ from: g.from, to: g.to, cause: g.cause })), resubscribes: this.resubscribes.slice(),
      duplicates: this.duplicates, running: this.running };
  }
}
