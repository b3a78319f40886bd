// The connection: start fails over past a server that does not answer; a server that goes away is left for the next
// one while the client runs (its state says so); a stopped client refuses calls and closes its streams; bad options
// fail at construction.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SensorHubClient, SensorHubError, SensorHubMethods } from "../dist/index.js";
import { connect, freePort, startServer, until } from "./helpers.mjs";

let a;
let b;
before(async () => { [a, b] = await Promise.all([startServer(), startServer()]); });
after(async () => { await Promise.all([a?.stop(), b?.stop()]); });

test("start goes past a server that does not answer, and a running client fails over when its server goes", async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const client = await connect(dead, { urls: [a.url, b.url], name: "roamer", roles: ["viewer"] });
  const states = [];
  client.on("state", change => states.push(`${change.state}@${change.url}`));
  try {
    assert.equal(client.state, "connected");
    assert.equal(client.url, a.url, "the first server that answered");
    assert.deepEqual([...client.urls], [dead, a.url, b.url]);
    await a.stop();
    await until(() => client.state === "connected" && client.url === b.url, { timeout: 20_000, what: "the failover to the third server" });
    assert.ok(states.some(s => s.startsWith("reconnecting")), `it went through reconnecting (${states})`);
    assert.ok(Array.isArray((await client.listSensors()).sensors), "calls work on the new server");
  } finally {
    await client.stop();
  }
  assert.equal(client.state, "disconnected");
  await assert.rejects(client.listSensors(), error => error instanceof SensorHubError && error.kind === "client");
});

test("options are checked when the client is built, and the method names are the contract's", () => {
  assert.throws(() => new SensorHubClient({}), TypeError);
  assert.throws(() => new SensorHubClient({ url: "http://x", protocol: "xml" }), /protocol/);
  assert.throws(() => new SensorHubClient({ url: "http://x", reconnectDelays: [] }), /reconnectDelays/);
  assert.equal(SensorHubMethods.SubscribeMany, "SubscribeMany");
  assert.equal(new SensorHubClient({ url: "http://x" }).protocol, "msgpack");
});

test("stop() closes the client's open streams as close() does, and the client starts again", async () => {
  const client = await connect(b.url, { name: "stopper", roles: ["viewer"] });
  const ends = [];
  client.subscribeMany("stop/#", { onReading: () => {}, onClose: error => ends.push(error) });
  const iterated = client.subscribeMany("stop/#");
  const loop = (async () => { for await (const _ of iterated) { /* none */ } return "done"; })();
  await new Promise(resolve => setTimeout(resolve, 300));
  await client.stop();
  assert.deepEqual(ends, [null], "onClose(null) once");
  assert.equal(await loop, "done", "the loop ended without an error");
  await client.start();
  assert.equal(client.state, "connected");
  await client.stop();
});
