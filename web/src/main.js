// Wires the dashboard's modules together around the page's one SensorHubClient (@sensorhub/client, connection.js).
// window.sensorhub is the handle the browser tests read.
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { PageConnection } from "./connection.js";
import { ChartManager } from "./charts.js";
import { Overview } from "./overview.js";
import { Uploads } from "./uploads.js";
import { Sessions } from "./sessions.js";
import { startStats } from "./stats.js";
import { identity } from "./identity.js";
import { $ } from "./dom.js";

const params = new URLSearchParams(location.search);
const hub = new PageConnection({ protocol: params.get("protocol") ?? "msgpack", tokenProvider: () => identity.freshToken() });
const charts = new ChartManager({ hub, container: $("#charts") });
const overview = new Overview({ hub, charts, table: $("#sensors tbody"), filter: $("#filter"), rate: $("#max-rate") });
const uploads = new Uploads({ hub, root: $("#uploads") });
const sessions = new Sessions({ hub, charts, root: $("#session") });
startStats($("#stats"));

const badge = $("#connection");
hub.onState(state => {
  badge.textContent = state;
  badge.dataset.state = state;
  $("#protocol").textContent = hub.protocol === "json" ? "JSON" : "MessagePack";
});

function showUser() {
  $("#user").textContent = identity.user ? `signed in as ${identity.user} (operator)` : "guest (viewer)";
  $("#sign-out").hidden = !identity.user;
}
$("#sign-in").addEventListener("submit", async e => {
  e.preventDefault();
  try { await identity.signIn($("#user-name").value.trim() || "operator"); showUser(); await hub.restart(); }
  catch (error) { $("#user").textContent = error.message; }
});
$("#sign-out").addEventListener("click", async () => { identity.signOut(); showUser(); await hub.restart(); });
showUser();

window.sensorhub = {
  hub, client: hub.client, charts, overview, uploads, sessions,
  chart: id => charts.charts.get(id)?.snapshot() ?? null,
};

await hub.start();
if (params.get("session")) sessions.join(params.get("session"));
