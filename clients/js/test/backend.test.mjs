// backend_unavailable (a node that lost its Redis), injected by a WebSocket proxy between the client and the real
// server (JSON protocol, whose frames the proxy can read): with leaveOnBackendUnavailable the client drops its one
// connection so that a balancer could send it elsewhere, and the subscription resumes on the next connection from its
// last sequence + 1; without it, the subscription resumes on the same connection.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { assertConsecutive, connect, devToken, pushable, sleep, startServer, until } from "./helpers.mjs";

const RS = "\x1e";
let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

/** A proxy on a free port that forwards the hub's WebSockets and can end their Subscribe streams with an error. */
async function proxy(target) {
  const wss = new WebSocket.Server({ host: "127.0.0.1", port: 0 });
  await new Promise(resolve => wss.once("listening", resolve));
  const links = [];
  wss.on("connection", (client, request) => {
    const upstream = new WebSocket(target.replace("http", "ws") + request.url);
    const link = { client, upstream, streams: [], pending: [] };
    links.push(link);
    upstream.on("open", () => { for (const m of link.pending.splice(0)) upstream.send(m); });
    upstream.on("message", data => client.readyState === WebSocket.OPEN && client.send(data));
    client.on("message", data => {
      const text = data.toString();
      for (const frame of text.split(RS)) {
        try {
          const m = frame ? JSON.parse(frame) : null;
          if (m?.type === 4 && m.target === "Subscribe") link.streams.push(m.invocationId);
        } catch { /* the handshake's tail, or not JSON */ }
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text); else link.pending.push(text);
    });
    const close = () => { client.close(); upstream.close(); };
    client.on("close", close);
    upstream.on("close", close);
  });
  return {
    url: `http://127.0.0.1:${wss.address().port}`,
    connections: () => links.length,
    /** Ends every open Subscribe stream as a node without Redis does, and cancels it on the server. */
    failStreams() {
      for (const link of links) {
        for (const id of link.streams.splice(0)) {
          link.upstream.send(JSON.stringify({ type: 5, invocationId: id }) + RS);
          link.client.send(JSON.stringify({ type: 3, invocationId: id, error: "An error occurred on the server while streaming results. HubException: [backend_unavailable] This node cannot reach Redis: the test's outage." }) + RS);
        }
      }
    },
    close: () => new Promise(resolve => { for (const l of links) { l.client.terminate(); l.upstream.terminate(); } wss.close(resolve); }),
  };
}

for (const leave of [true, false]) {
  test(`backend_unavailable with one address ${leave ? "leaves the connection" : "resumes on the same connection"} and the subscription goes on from its last sequence + 1`, async () => {
    const sensor = `js/backend/${leave}`;
    const device = await connect(server.url, { name: "device" });
    const items = pushable();
    const published = device.publish(items);
    items.push({ sensorId: sensor, value: 0, timestamp: null });
    const hop = await proxy(server.url);
    const client = await connect(hop.url, {
      protocol: "json", leaveOnBackendUnavailable: leave, accessTokenFactory: () => devToken(server.url, "watcher", ["viewer"]),
    });
    try {
      const first = await until(async () => (await client.listSensors({ prefix: sensor, limit: 1 })).sensors[0]?.lastSequence, { what: "the sensor" });
      const seen = [];
      const resumes = [];
      const states = [];
      client.on("state", change => states.push(change.state));
      client.subscribe(sensor, { fromSequence: first, onReading: r => seen.push(r.sequence), onResume: info => resumes.push(info) });
      for (let i = 1; i < 50; i++) items.push({ sensorId: sensor, value: i, timestamp: null });
      await until(() => seen.length === 50, { what: "50 readings" });
      hop.failStreams();
      await until(() => resumes.length === 1, { what: "the resume" });
      for (let i = 50; i < 100; i++) items.push({ sensorId: sensor, value: i, timestamp: null });
      await until(() => seen.length === 100, { what: "100 readings" });
      await sleep(200);
      assertConsecutive(assert, seen, first, first + 99, "across backend_unavailable");
      assert.deepEqual(resumes, [{ reason: "interrupted", fromSequence: first + 50 }], "one resume, from the last sequence + 1");
      assert.equal(hop.connections(), leave ? 2 : 1, leave ? "a new connection" : "the same connection");
      assert.deepEqual(states, leave ? ["reconnecting", "connected"] : []);
    } finally {
      await client.stop();
      await hop.close();
      items.end();
      await published;
      await device.stop();
    }
  });
}
