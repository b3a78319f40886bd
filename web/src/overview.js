// The sensor overview: ListSensors once a second, live value, unit, a sparkline, filter by id prefix.
import { el, fmt } from "./dom.js";

export class Overview {
  constructor({ hub, charts, table, filter, rate }) {
    Object.assign(this, { hub, charts, table, filter, rate });
    this.history = new Map();
    this.sensors = [];
    filter.addEventListener("input", () => this.render());
    setInterval(() => this.refresh(), 1000);
    hub.onState(state => { if (state === "connected" || state === "resumed") this.refresh(); });
  }

  async refresh() {
    if (!this.hub.isConnected) return;
    try { this.sensors = await this.hub.invoke("ListSensors"); } catch { return; }
    for (const s of this.sensors) {
      const h = this.history.get(s.id) ?? [];
      if (s.lastValue !== null && s.lastValue !== undefined) h.push(s.lastValue);
      if (h.length > 60) h.shift();
      this.history.set(s.id, h);
    }
    this.render();
  }

  render() {
    const prefix = this.filter.value.trim();
    const rows = this.sensors.filter(s => s.id.startsWith(prefix)).map(s => {
      const open = el("button", { type: "button", onclick: () => this.charts.open(s.id, { maxRate: this.rate.value === "none" ? null : Number(this.rate.value) }) }, "Open");
      return el("tr", { dataset: { sensor: s.id } },
        el("td", {}, el("span", { class: "id" }, s.id), el("small", {}, s.name)),
        el("td", { class: "value" }, fmt(s.lastValue), " ", s.unit ?? ""),
        el("td", { class: "spark" }, sparkline(this.history.get(s.id) ?? [])),
        el("td", {}, open));
    });
    this.table.replaceChildren(...rows);
  }
}

function sparkline(values) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 24"); svg.setAttribute("class", "spark"); svg.setAttribute("aria-hidden", "true");
  if (values.length > 1) {
    const min = Math.min(...values), max = Math.max(...values), span = max - min || 1;
    const path = document.createElementNS(svg.namespaceURI, "polyline");
    path.setAttribute("points", values.map((v, i) => `${(i / (values.length - 1)) * 100},${22 - ((v - min) / span) * 20}`).join(" "));
    svg.append(path);
  }
  return svg;
}
