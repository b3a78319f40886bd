// Subscriptions against the real server, over both protocols: every reading once and in order across a dropped
// transport, per sensor for subscribeMany, and leaving a for-await loop ends the server's generator at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SensorHubError } from "../dist/index.js";
import { PROTOCOLS, assertConsecutive, connect, pushable, sleep, startServer, stats, until, within } from "./helpers.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

/** A publisher client with one Publish stream open; `publish(id, value)` sends one reading. */
async function publisher(protocol) {
  const client = await connect(server.url, { protocol, name: `publisher-${protocol}` });
  const items = pushable();
  const result = client.publish(items);
  return {
    publish: (sensorId, value) => items.push({ sensorId, value, timestamp: null }),
    async end() { items.end(); const r = await result; await client.stop(); return r; },
  };
}

/** A sensor's listing (its first and last sequence …), or undefined while it has none. */
async function sensorInfo(client, sensorId) {
  const page = await client.listSensors({ prefix: sensorId, limit: 1 });
  return page.sensors.find(s => s.id === sensorId);
}

/** The newest sequence of a sensor, from a listing. */
async function lastSequence(client, sensorId) {
  return (await sensorInfo(client, sensorId))?.lastSequence ?? 0;
}

for (const protocol of PROTOCOLS) {
  describe(`feeds over ${protocol}`, () => {
    test("a subscription across a dropped transport shows every reading once, in order, with no gap", async () => {
      const sensor = `js/${protocol}/drop`;
      const pub = await publisher(protocol);
      pub.publish(sensor, 0);
      const client = await connect(server.url, { protocol, name: "watcher", roles: ["viewer"] });
      try {
        const first = await until(() => lastSequence(client, sensor), { what: "the first reading" });
        const seen = [];
        const gaps = [];
        const states = [];
        client.on("state", change => states.push(change.state));
        const subscription = client.subscribe(sensor, { fromSequence: first, onGap: gap => gaps.push(gap) });
        const reading = (async () => {
          for await (const r of subscription) {
            assert.ok(r.timestamp instanceof Date && !Number.isNaN(r.timestamp.getTime()), "timestamps are Dates");
            assert.equal(r.sensorId, sensor);
            seen.push(r.sequence);
            if (seen.length === 300) break;
          }
        })();
        for (let i = 1; i < 150; i++) { pub.publish(sensor, i); if (i % 10 === 0) await sleep(5); }
        await until(() => seen.length >= 100, { what: "readings before the drop" });
        await client.simulateDrop("the test drops the transport");
        for (let i = 150; i < 300; i++) { pub.publish(sensor, i); if (i % 10 === 0) await sleep(5); }
        await within(reading, 20_000, "every reading");
        assertConsecutive(assert, seen, first, first + 299, "across the drop");
        assert.deepEqual(gaps, [], "history held every reading: no gap");
        assert.ok(states.includes("reconnecting") && states.at(-1) === "connected", `the state went reconnecting, then connected (${states})`);
      } finally {
        await client.stop();
        await pub.end();
      }
    });

    test("a subscribeMany resumes per sensor from each one's last delivered sequence", async () => {
      const ids = ["a", "b", "c"].map(s => `js/${protocol}/many/${s}`);
      const pub = await publisher(protocol);
      for (const id of ids) pub.publish(id, 0);
      const client = await connect(server.url, { protocol, name: "many", roles: ["viewer"] });
      try {
        await until(async () => (await client.listSensors({ prefix: `js/${protocol}/many/` })).sensors.length === 3, { what: "three sensors" });
        const seen = new Map(ids.map(id => [id, []]));
        const gaps = [];
        let count = 0;
        const subscription = client.subscribeMany(`js/${protocol}/many/+`, {
          onReading: r => { seen.get(r.sensorId).push(r.sequence); count++; },
          onGap: gap => gaps.push(gap),
        });
        await sleep(300); // the stream is open (live): readings from here on
        for (let i = 1; i <= 60; i++) for (const id of ids) pub.publish(id, i);
        await until(() => count >= 90, { what: "readings before the drop" });
        await client.simulateDrop();
        for (let i = 61; i <= 120; i++) for (const id of ids) pub.publish(id, i);
        await until(() => count >= 360, { what: "every reading of the three sensors" });
        await sleep(200);
        for (const [id, sequences] of seen) {
          assert.equal(sequences.length, 120, `${id}: 120 readings, no duplicate`);
          assertConsecutive(assert, sequences, sequences[0], sequences[0] + 119, id);
        }
        assert.deepEqual(gaps, []);
        subscription.close();
      } finally {
        await client.stop();
        await pub.end();
      }
    });

    test("leaving a for-await loop with break ends the server's generator at once", async () => {
      const sensor = `js/${protocol}/break`;
      const pub = await publisher(protocol);
      pub.publish(sensor, 0);
      const client = await connect(server.url, { protocol, name: "breaker", roles: ["viewer"] });
      try {
        await until(() => lastSequence(client, sensor), { what: "the sensor" });
        const baseline = (await stats(server.url)).activeStreams;
        const subscription = client.subscribe(sensor, { fromSequence: 0 });
        let got = 0;
        for await (const r of subscription) {
          assert.equal(r.sensorId, sensor);
          assert.ok((await stats(server.url)).activeStreams > baseline, "the stream runs on the server while the loop runs");
          if (++got === 1) break;
        }
        assert.ok(subscription.closed, "break closed the subscription");
        await until(async () => (await stats(server.url)).activeStreams === baseline, { timeout: 5_000, what: "activeStreams back to its level" });
        // close() too, on a callback subscription.
        const fed = client.subscribe(sensor, { fromSequence: 0, onReading: () => {} });
        await until(async () => (await stats(server.url)).activeStreams > baseline, { what: "the second stream" });
        fed.close();
        await until(async () => (await stats(server.url)).activeStreams === baseline, { timeout: 5_000, what: "activeStreams back after close()" });
      } finally {
        await client.stop();
        await pub.end();
      }
    });

    test("a consumer slower than its buffer loses nothing: the stream pauses and resumes from where it stands", async () => {
      const sensor = `js/${protocol}/slow`;
      const pub = await publisher(protocol);
      for (let i = 0; i < 400; i++) pub.publish(sensor, i);
      const client = await connect(server.url, { protocol, name: "slow", roles: ["viewer"] });
      try {
        // The sensor is new: its 400 readings run from its first sequence. Read that rather than work it back from a
        // last sequence seen while the publisher may still be sending.
        const first = await until(async () => (await sensorInfo(client, sensor))?.firstSequence, { what: "the first reading" });
        await until(async () => (await lastSequence(client, sensor)) === first + 399, { what: "all 400 readings" });
        const baseline = (await stats(server.url)).activeStreams;
        const seen = [];
        const gaps = [];
        // A buffer of 20: the replay of 400 fills it many times over while the loop dawdles.
        const subscription = client.subscribe(sensor, { fromSequence: first, bufferSize: 20, onGap: g => gaps.push(g) });
        let most = 0;
        for await (const r of subscription) {
          seen.push(r.sequence);
          most = Math.max(most, subscription.buffered);
          if (seen.length % 50 === 0) await sleep(20);
          if (seen.length === 400) break;
        }
        assertConsecutive(assert, seen, first, first + 399, "through a buffer of 20");
        assert.ok(most <= 20, `the buffer held at most ${most} readings`);
        assert.deepEqual(gaps, []);
        await until(async () => (await stats(server.url)).activeStreams === baseline, { timeout: 5_000, what: "the stream ended" });
      } finally {
        await client.stop();
        await pub.end();
      }
    });

    test("errors carry the server's codes", async () => {
      const client = await connect(server.url, { protocol, name: "erring", roles: ["viewer"] });
      try {
        await assert.rejects(
          (async () => { for await (const _ of client.subscribe(`js/${protocol}/never-published`)) { /* none */ } })(),
          error => error instanceof SensorHubError && error.code === "unknown_sensor" && error.kind === "refused" && error.message.startsWith("[unknown_sensor] "),
        );
        const refused = await new Promise(resolve => client.subscribeMany("a/#/b", { onReading: () => {}, onError: resolve }));
        assert.equal(refused.code, "invalid_argument");
        assert.match(refused.serverText, /'#' before its last level/);
        await assert.rejects(client.listSensors({ limit: 5000 }), error => error.code === "invalid_argument");
        await assert.rejects(client.annotate("no-such-session", { text: "hi" }), error => error.code === "not_allowed" || error.code === "unknown_session" || error.code === "invalid_argument");
        // The connection stays usable after refusals.
        assert.equal(client.state, "connected");
        assert.ok(Array.isArray((await client.listSensors()).sensors));
      } finally {
        await client.stop();
      }
    });
  });
}
