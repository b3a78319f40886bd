// The server panel: /api/stats once a second, readings per second from the difference. The counters stand behind the
// hub's door: a signed-in tab sends its token (a fresh one once it runs out), a guest sends none, which the server
// accepts only where it lets guests in.
import { el } from "./dom.js";
import { identity } from "./identity.js";

async function fetchStats() {
  const token = await identity.freshToken();
  return fetch("/api/stats", { cache: "no-store", headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

export function startStats(root) {
  let previous = null;
  const tick = async () => {
    try {
      const response = await fetchStats();
      if (response.status === 401) {
        root.dataset.refused = "true";
        root.replaceChildren(el("div", { class: "stat" }, el("dt", {}, "counters"), el("dd", {}, "sign in to see them")));
        return;
      }
      if (!response.ok) return;
      delete root.dataset.refused;
      const stats = await response.json();
      const now = performance.now();
      const rate = previous ? ((stats.readingsPublished - previous.stats.readingsPublished) * 1000) / (now - previous.at) : null;
      previous = { stats, at: now };
      const rows = [["connections", stats.connections], ["active streams", stats.activeStreams], ["sensors", stats.sensors],
        ["readings/s", rate === null ? "–" : Math.round(rate)], ["delivered", stats.readingsDelivered], ["dropped", stats.readingsDropped]];
      root.replaceChildren(...rows.map(([k, v]) => el("div", { class: "stat" }, el("dt", {}, k), el("dd", { dataset: { stat: k } }, String(v)))));
      root.dataset.activeStreams = String(stats.activeStreams);
    } catch { /* the server is restarting, or a token could not be had: the connection badge says so; try again next second */ }
  };
  tick();
  return setInterval(tick, 1000);
}
