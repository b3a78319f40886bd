// Starts the real server on 127.0.0.1 (a free port) and Debian's Chromium through playwright-core, and gives each
// test a page that fails the test on any console error and leaves a screenshot in artifacts/browser/.
import { spawn, execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const artifacts = path.join(root, "artifacts/browser");
mkdirSync(artifacts, { recursive: true });

/** Starts the server; `settings` ({ "SensorHub:Uploads:MaxUploadsPerConnection": "1" }, say) go on its command line. */
export async function startServer({ settings = {} } = {}) {
  const dll = path.join(root, "server/bin/Debug/net10.0/SensorHub.Server.dll");
  const overrides = Object.entries(settings).map(([key, value]) => `--${key}=${value}`);
  const child = spawn("dotnet", [dll, "--urls", "http://127.0.0.1:0", ...overrides], {
    cwd: path.join(root, "server"),
    env: { ...process.env, ASPNETCORE_ENVIRONMENT: "Development", DOTNET_NOLOGO: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30000);
    child.stdout.on("data", data => {
      output += data;
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    child.stderr.on("data", data => { output += data; });
    child.on("exit", code => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  return { url, stop: () => new Promise(resolve => { child.once("exit", resolve); child.kill("SIGTERM"); setTimeout(() => child.kill("SIGKILL"), 5000).unref(); }) };
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM ?? execSync("command -v chromium", { shell: "/bin/sh" }).toString().trim();
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh context and page; `finish()` screenshots and returns the console errors seen. */
export async function openPage(browser, baseUrl, name, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("console", message => { if (message.type() === "error") errors.push(message.text()); });
  page.on("pageerror", error => errors.push(String(error)));
  return {
    context, page, errors,
    async finish() {
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
      await context.close();
      return errors;
    },
  };
}

export const stats = async baseUrl => (await fetch(`${baseUrl}/api/stats`)).json();

export async function until(check, { timeout = 10000, interval = 100, what = "condition" } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, interval));
  }
}

export async function signIn(page, name) {
  await page.fill("#user-name", name);
  await page.click("#sign-in button[type=submit]");
  await page.waitForFunction(n => document.querySelector("#user").textContent.includes(n), name);
  await page.waitForFunction(() => ["connected", "resumed"].includes(document.querySelector("#connection").dataset.state));
}

/**
 * Routes the page's hub WebSockets through Playwright, so that a test can drop them as the server would: both sides
 * are closed, the page's with code 1011 (an unexpected condition on the server). Call before the page navigates.
 */
export async function droppableHub(page) {
  const open = [];
  await page.routeWebSocket(/\/hubs\/sensors/, ws => { open.push([ws, ws.connectToServer()]); });
  return {
    async drop() {
      for (const [pageSide, serverSide] of open.splice(0)) {
        await serverSide.close();
        await pageSide.close({ code: 1011, reason: "server aborted the connection" });
      }
    },
  };
}

/**
 * Routes the page's hub WebSockets through Playwright (JSON protocol only) and notes every stream of `targets` the
 * page opens, so that a test can end them as a node that lost Redis does: a completion with backend_unavailable, the
 * connection left up. Counts the page's hub invocations by method (`calls(method)`, over every connection the page
 * made), and negotiate requests (the dashboard makes none). Call before the page navigates.
 */
export async function failableHub(page, { targets = ["Subscribe"] } = {}) {
  const open = [];
  const calls = new Map();
  let negotiations = 0;
  page.on("request", request => { if (/\/hubs\/sensors\/negotiate/.test(request.url())) negotiations++; });
  await page.routeWebSocket(/\/hubs\/sensors/, ws => {
    const server = ws.connectToServer();
    const entry = { ws, streams: [] };
    // With a handler on the page's side, its messages are forwarded by hand.
    ws.onMessage(message => {
      if (typeof message === "string") {
        for (const frame of message.split("\x1e")) {
          try {
            const m = frame ? JSON.parse(frame) : null;
            // 1: an invocation, 4: a stream invocation.
            if (m?.type === 1 || m?.type === 4) calls.set(m.target, (calls.get(m.target) ?? 0) + 1);
            if (m?.type === 4 && targets.includes(m.target)) entry.streams.push(m.invocationId);
          } catch { /* not JSON: not ours to read */ }
        }
      }
      server.send(message);
    });
    open.push(entry);
  });
  return {
    get negotiations() { return negotiations; },
    calls: method => calls.get(method) ?? 0,
    failStreams() {
      let failed = 0;
      for (const { ws, streams } of open) {
        for (const invocationId of streams.splice(0)) {
          ws.send(JSON.stringify({
            type: 3, invocationId,
            error: "An error occurred on the server while streaming results. HubException: [backend_unavailable] This node cannot reach Redis: the test's outage. Resume on another node or later.",
          }) + "\x1e");
          failed++;
        }
      }
      return failed;
    },
  };
}

/**
 * A publisher in the page (which must be signed in with a role that publishes): one publish stream of the page's
 * SensorHubClient (window.sensorhub.client.publish), fed by `publish(sensorId, value)` through an async iterable that
 * waits for the next reading, and ended by `end()`, which resolves to the server's PublishResult.
 */
export async function startPublishing(page) {
  await page.evaluate(() => {
    const queue = [];
    let wake = null;
    let ended = false;
    const readings = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length > 0) yield queue.shift();
          if (ended) return;
          await new Promise(resolve => { wake = resolve; });
        }
      },
    };
    const nudge = () => { const w = wake; wake = null; w?.(); };
    window.published = window.sensorhub.client.publish(readings);
    window.publish = item => { queue.push(item); nudge(); };
    window.endPublishing = () => { ended = true; nudge(); return window.published; };
  });
  return {
    publish: (sensorId, value) => page.evaluate(([id, v]) => window.publish({ sensorId: id, value: v, timestamp: null }), [sensorId, value]),
    /** Publishes one reading to each of `sensorIds` at once, in that order. */
    publishEach: (sensorIds, value) => page.evaluate(([ids, v]) => { for (const id of ids) window.publish({ sensorId: id, value: v, timestamp: null }); }, [sensorIds, value]),
    end: () => page.evaluate(() => window.endPublishing()),
  };
}
