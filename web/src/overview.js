// The sensor overview: the first page of ListSensors for the filter's id prefix once a second, live value, unit,
// a sparkline. With more sensors than a page holds, a last row says so: the filter narrows the page on the server.
import { el, fmt } from "./dom.js";
import { Codes, codeOf, textOf } from "./errors.js";

// Sensors shown at once; the server takes up to 1,000 a page.
const PAGE = 200;

export class Overview {
  constructor({ hub, charts, table, filter, rate }) {
    Object.assign(this, { hub, charts, table, filter, rate });
    this.history = new Map();
    this.sensors = [];
    this.more = false;
    filter.addEventListener("input", () => { this.render(); this.refresh(); });
    setInterval(() => this.refresh(), 1000);
    hub.onState(state => { if (state === "connected" || state === "resumed") this.refresh(); });
  }

  async refresh() {
    if (!this.hub.isConnected) return;
    const prefix = this.filter.value.trim();
    let page;
    // A prefix the server refuses (a character no sensor id holds) matches nothing; render() shows nothing for it.
    try {
      page = await this.hub.invoke("ListSensors", { prefix, after: null, limit: PAGE });
    } catch (error) {
      // A node without its backend cannot list: move to another (the next second's poll asks there).
      if (codeOf(error) === Codes.backendUnavailable) this.hub.failOver(textOf(error));
      return;
    }
    // An answer for a filter that has changed since it was asked is stale: the next refresh asks again.
    if (prefix !== this.filter.value.trim()) return;
    this.sensors = page.sensors;
    this.more = page.next !== null && page.next !== undefined;
    for (const s of this.sensors) {
      const h = this.history.get(s.id) ?? [];
      if (s.lastValue !== null && s.lastValue !== undefined) h.push(s.lastValue);
      if (h.length > 60) h.shift();
      this.history.set(s.id, h);
    }
    // Sparklines are kept for the sensors of recent pages only, so that filtering through many sensors stays bounded.
    if (this.history.size > 4 * PAGE) {
      const shown = new Set(this.sensors.map(s => s.id));
      for (const id of this.history.keys()) if (!shown.has(id)) this.history.delete(id);
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
    if (this.more) rows.push(el("tr", { class: "more" }, el("td", { colspan: 4 }, el("small", {}, `The first ${PAGE} sensors are shown: filter by id prefix to see others.`))));
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
