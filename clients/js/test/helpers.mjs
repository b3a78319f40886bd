// Test helpers: the real server on 127.0.0.1, dev tokens, a pushable async iterable, waiting with a timeout.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SensorHubClient } from "../dist/index.js";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const PROTOCOLS = ["msgpack", "json"];

/** A free TCP port on 127.0.0.1 (a server restarted on it comes back at the same address). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server built by `dotnet build server` (Development: guests, dev tokens) on `port` (a free one by
 * default), with its uploads in `dataDir` (a fresh temporary folder by default). `stop()` sends SIGTERM to its pid.
 */
export async function startServer({ port, dataDir, settings = {} } = {}) {
  port ??= await freePort();
  const ownDir = dataDir === undefined;
  dataDir ??= mkdtempSync(path.join(os.tmpdir(), "sensorhub-js-"));
  const dll = path.join(root, "server/bin/Debug/net10.0/SensorHub.Server.dll");
  const overrides = Object.entries({
    "SensorHub:Uploads:DataPath": dataDir, "SensorHub:Simulation:Enabled": "false",
    "Logging:LogLevel:Default": "Warning", "Logging:LogLevel:Microsoft.Hosting.Lifetime": "Information", ...settings,
  })
    .map(([key, value]) => `--${key}=${value}`);
  const child = spawn("dotnet", [dll, "--urls", `http://127.0.0.1:${port}`, ...overrides], {
    cwd: path.join(root, "server"),
    env: { ...process.env, ASPNETCORE_ENVIRONMENT: "Development", DOTNET_NOLOGO: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stdout.on("data", data => {
      output += data;
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    child.stderr.on("data", data => { output += data; });
    child.once("exit", code => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  let exited = false;
  child.once("exit", () => { exited = true; });
  return {
    url, port, dataDir, pid: child.pid,
    /** SIGTERM, and SIGKILL after 10 s; resolves once the process has exited. */
    stop: ({ keepData = false } = {}) => new Promise(resolve => {
      const done = () => { if (ownDir && !keepData) rmSync(dataDir, { recursive: true, force: true }); resolve(); };
      if (exited) return done();
      child.once("exit", done);
      process.kill(child.pid, "SIGTERM");
      setTimeout(() => { if (!exited) process.kill(child.pid, "SIGKILL"); }, 10_000).unref();
    }),
    output: () => output,
  };
}

/** A dev token from the server at `url` (asked each time: a restarted server signs with a key of its own). */
export async function devToken(url, name, roles = ["operator"]) {
  const response = await fetch(`${url}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, roles }) });
  if (!response.ok) throw new Error(`dev token: ${response.status} ${await response.text()}`);
  return (await response.json()).accessToken;
}

/** A started client; `urls()` gives the base addresses (asked at each connection attempt for the token). */
export async function connect(url, { protocol = "msgpack", name = "tester", roles = ["operator"], ...rest } = {}) {
  const client = new SensorHubClient({ url, protocol, accessTokenFactory: () => devToken(client.url, name, roles), reconnectDelays: [0, 100, 250, 500], ...rest });
  await client.start();
  return client;
}

/** An async iterable fed by `push`, ended by `end` (a publisher's readings). */
export function pushable() {
  const queue = [];
  let wake = null;
  let ended = false;
  return {
    push(item) { queue.push(item); wake?.(); },
    end() { ended = true; wake?.(); },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift();
        if (ended) return;
        await new Promise(resolve => { wake = resolve; });
        wake = null;
      }
    },
  };
}

/** Waits until `check()` is truthy (polling), or fails naming `what` after `timeout` ms. */
export async function until(check, { timeout = 15_000, interval = 20, what = "condition" } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, interval));
  }
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Fails a promise that takes longer than `ms`. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

/** GET /api/stats as a guest. */
export async function stats(url) {
  return (await fetch(`${url}/api/stats`)).json();
}

/** Checks that `sequences` run one by one from `first` to `last`, each once. */
export function assertConsecutive(assert, sequences, first, last, what) {
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  assert.deepEqual(sequences, expected, `${what}: every reading once, in order`);
}
