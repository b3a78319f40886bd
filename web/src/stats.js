// The server panel: /api/stats once a second, readings per second from the difference.
import { el } from "./dom.js";

export function startStats(root) {
  let previous = null;
  const tick = async () => {
    try {
      const response = await fetch("/api/stats", { cache: "no-store" });
      if (!response.ok) return;
      const stats = await response.json();
      const now = performance.now();
      const rate = previous ? ((stats.readingsPublished - previous.stats.readingsPublished) * 1000) / (now - previous.at) : null;
      previous = { stats, at: now };
      const rows = [["connections", stats.connections], ["active streams", stats.activeStreams], ["sensors", stats.sensors],
        ["readings/s", rate === null ? "–" : Math.round(rate)], ["delivered", stats.readingsDelivered], ["dropped", stats.readingsDropped]];
      root.replaceChildren(...rows.map(([k, v]) => el("div", { class: "stat" }, el("dt", {}, k), el("dd", { dataset: { stat: k } }, String(v)))));
      root.dataset.activeStreams = String(stats.activeStreams);
    } catch { /* the server is restarting: the connection badge says so; try again next second */ }
  };
  tick();
  return setInterval(tick, 1000);
}
