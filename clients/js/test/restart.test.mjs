// A server restart under open subscriptions (both protocols at once): the server ends the streams as it stops, the
// clients reconnect to the new process at the same address, wait out unknown_sensor until the sensor is published
// to again, and go on: every reading once, in order, and the jump between the two numberings reported as a
// serverRestart gap without a count.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PROTOCOLS, assertConsecutive, connect, pushable, startServer, until } from "./helpers.mjs";

test("subscriptions across a server restart show every reading once, in order, the restart reported as a gap", async () => {
  let server = await startServer();
  const { port, dataDir } = server;
  const sensor = "js/restart/temperature";
  const clients = [];
  try {
    const publish = async count => {
      const client = await connect(server.url, { name: "device" });
      const items = pushable();
      const result = client.publish(items);
      for (let i = 0; i < count; i++) items.push({ sensorId: sensor, value: i, timestamp: null });
      items.end();
      assert.equal((await result).accepted, count);
      await client.stop();
    };
    await publish(1);
    const watchers = [];
    for (const protocol of PROTOCOLS) {
      const client = await connect(server.url, { protocol, name: `watcher-${protocol}`, roles: ["viewer"] });
      clients.push(client);
      const first = (await client.listSensors({ prefix: sensor, limit: 1 })).sensors[0].lastSequence;
      const watcher = { protocol, first, seen: [], gaps: [], states: [] };
      client.on("state", change => watcher.states.push(change.state));
      client.subscribe(sensor, { fromSequence: first, onReading: r => watcher.seen.push(r.sequence), onGap: g => watcher.gaps.push(g), onError: e => { watcher.error = e; } });
      watchers.push(watcher);
    }
    await publish(49);
    await until(() => watchers.every(w => w.seen.length === 50), { what: "50 readings before the restart" });

    await server.stop({ keepData: true });
    await until(() => watchers.every(w => w.states.includes("reconnecting")), { what: "the clients to notice" });
    server = await startServer({ port, dataDir });
    await publish(50);
    await until(() => watchers.every(w => w.seen.length === 100 || w.error), { timeout: 30_000, what: "50 readings after the restart" });

    for (const w of watchers) {
      assert.equal(w.error, undefined, `${w.protocol}: no error`);
      const before = w.seen.slice(0, 50);
      const afterRestart = w.seen.slice(50);
      assertConsecutive(assert, before, w.first, w.first + 49, `${w.protocol} before the restart`);
      assertConsecutive(assert, afterRestart, afterRestart[0], afterRestart[0] + 49, `${w.protocol} after the restart`);
      assert.ok(afterRestart[0] > before.at(-1), `${w.protocol}: the new numbering is above the old`);
      assert.deepEqual(w.gaps, [{ sensorId: sensor, fromSequence: before.at(-1) + 1, toSequence: afterRestart[0] - 1, cause: "serverRestart", count: null }], `${w.protocol}: one restart gap`);
      assert.equal(w.states.at(-1), "connected");
    }
  } finally {
    for (const client of clients) await client.stop();
    await server.stop();
    const { rmSync } = await import("node:fs");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
