// Live charts: one uPlot per open sensor, fed by a Subscribe stream, drawn at most once per animation frame over a
// bounded window. After a reconnect each chart resubscribes from its last sequence + 1 and marks a gap where the
// first reading is beyond that (history no longer covered the span).
import uPlot from "uplot";
import { el, toDate, fmt } from "./dom.js";
import { Codes, codeOf, textOf } from "./errors.js";

const WINDOW = 2000; // points kept per chart

export class ChartManager {
  constructor({ hub, subscriptions, container, onChange = () => {} }) {
    this.hub = hub;
    this.subscriptions = subscriptions;
    this.container = container;
    this.onChange = onChange;
    this.charts = new Map();
    this.annotations = [];
    hub.onReconnected(() => { for (const chart of this.charts.values()) chart.resubscribe(); });
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
    this.duplicates = 0;
    this.gaps = [];           // { at: seconds, from, to } missing sequences
    this.resubscribes = [];   // { from, first } the fromSequence asked for and the first sequence that came
    this.running = false;
    this.ended = null;
    this.pending = false;
    this.subscription = null;

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
    const hub = this.manager.hub;
    this.running = true;
    this.ended = null;
    this.stopButton.textContent = "Stop";
    this.status.textContent = fromSequence === null ? "live" : `resuming from ${fromSequence}`;
    this.expectedFrom = fromSequence;
    const stream = hub.stream("Subscribe", this.sensorId, { fromSequence, maxRate: this.maxRate });
    this.subscription = this.manager.subscriptions.add(this, stream, {
      next: reading => this.add(reading),
      error: error => {
        this.subscription = null;
        // The node lost its backend: not a refusal. Move (reconnect) and resume from the last sequence, as after a drop.
        if (codeOf(error) === Codes.backendUnavailable) {
          this.status.textContent = "the server lost its backend: resuming";
          hub.failOver(textOf(error));
          return;
        }
        // A refusal (an error with a code: unknown sensor, not allowed, too many streams) ends the chart's feed at
        // once: resubscribing would be refused again. A stream cut by a dropped connection (no code) is reopened on
        // reconnect; SignalR fails the streams just before it switches to reconnecting: look at the state after that.
        if (codeOf(error) !== null) { this.fail(error); return; }
        setTimeout(() => {
          if (!hub.isConnected) { this.status.textContent = "waiting for the connection"; return; }
          this.fail(error);
        }, 0);
      },
      // A feed completes only when its server stops, after what it had for us: like a drop, it is reopened on reconnect.
      complete: () => { this.subscription = null; this.status.textContent = "server stopped: waiting for the connection"; },
    });
  }

  fail(error) {
    this.running = false;
    this.ended = textOf(error);
    this.status.textContent = `error: ${this.ended}`;
    this.stopButton.textContent = "Start";
  }

  resubscribe() {
    if (!this.running) return;
    if (this.subscription) this.manager.subscriptions.remove(this, this.subscription);
    const from = this.lastSequence === null ? null : this.lastSequence + 1;
    this.resubscribes.push({ from, first: null });
    this.subscribe(from);
  }

  add(reading) {
    const sequence = Number(reading.sequence);
    const t = toDate(reading.timestamp).getTime() / 1000;
    const seam = this.resubscribes.at(-1);
    if (seam && seam.first === null && this.expectedFrom !== null) {
      seam.first = sequence;
      if (sequence > this.expectedFrom) this.gaps.push({ at: t, from: this.expectedFrom, to: sequence - 1 });
      this.status.textContent = "live";
    } else if (this.lastSequence !== null && this.maxRate === null && sequence > this.lastSequence + 1) {
      // Without maxRate every reading should come: a jump is a real gap (drops in a full buffer).
      this.gaps.push({ at: t, from: this.lastSequence + 1, to: sequence - 1 });
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
    for (const gap of this.gaps) line(gap.at, "#d1242f", `gap ${gap.to - gap.from + 1}`);
    for (const a of this.manager.annotations) {
      if (a.sensorId && a.sensorId !== this.sensorId) continue;
      line(toDate(a.time).getTime() / 1000, "#9a6700", a.text.slice(0, 24));
    }
  }

  toggle() {
    if (this.running) { this.stop(); return; }
    const from = this.lastSequence === null ? null : this.lastSequence + 1;
    this.resubscribes.push({ from, first: null });
    this.subscribe(from);
  }

  stop() {
    this.running = false;
    if (this.subscription) this.manager.subscriptions.remove(this, this.subscription);
    this.subscription = null;
    this.status.textContent = "stopped";
    this.stopButton.textContent = "Start";
  }

  close() {
    this.stop();
    this.manager.subscriptions.disposeAll(this);
    window.removeEventListener("resize", this.resize);
    this.plot.destroy();
    this.root.remove();
  }

  /** What the tests read. */
  snapshot() {
    return { sensorId: this.sensorId, maxRate: this.maxRate, received: this.received, lastSequence: this.lastSequence,
      gaps: this.gaps.map(g => ({ from: g.from, to: g.to })), resubscribes: this.resubscribes.slice(),
      duplicates: this.duplicates, running: this.running };
  }
}
