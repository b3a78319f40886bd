// A large upload streams from the file: the dashboard reads, hashes and sends it chunk by chunk, so the page's heap
// does not grow by the file's size. The file (200 MiB) is made in the page as a File of one repeated 1 MiB part, so the
// test itself never holds it either; its SHA-256 is computed here from the same part.
//
// Two measures, each checked first to see a 96 MiB buffer that the page holds:
// - the page's JavaScript heap: V8's heap in use plus the backing stores of its ArrayBuffers (CDP Runtime.getHeapUsage:
//   usedSize + backingStorageSize), after a forced collection (HeapProfiler.collectGarbage), every 250 ms while the
//   upload runs: growth < 64 MiB. This sees a file held by the page, but not one read whole for a moment: the
//   dashboard used to hash `await file.arrayBuffer()` with crypto.subtle.digest, which copies the bytes out of the
//   JavaScript heap at once, and a sample every 250 ms missed that 200 MiB buffer (the old page passed this measure);
// - the peak resident memory of the page's renderer process (Linux: VmHWM in /proc/<pid>/status, reset through
//   /proc/<pid>/clear_refs once the file is made): growth < 128 MiB. It catches every copy of the file in the page's
//   process however briefly it lived; the old page peaked 383 MiB above its start (the read and WebCrypto's copy).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, launchBrowser, openPage, signIn } from "./harness.mjs";

const MiB = 1024 * 1024;
// One part a little over 1 MiB: the 64 KiB chunks then fall across the parts' seams at ever other offsets.
const PART = MiB + 7;
const PARTS = 200;
const SIZE = PART * PARTS;
/** Growth of the page's JavaScript heap, after collection, that the upload may cause at most: under a third of the file. */
const HEAP_BOUND = 64 * MiB;
/** Growth of the renderer's peak resident memory that the upload may cause at most: under two thirds of the file. */
const PEAK_BOUND = 128 * MiB;
const BALLAST = 96 * MiB;
let server, browser, dataPath;

before(async () => {
  // The 200 MiB upload is written to a folder of its own, removed afterwards.
  dataPath = await mkdtemp(path.join(tmpdir(), "sensorhub-heap-"));
  [server, browser] = await Promise.all([
    startServer({ settings: { "SensorHub:Uploads:DataPath": dataPath } }),
    launchBrowser(),
  ]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataPath) await rm(dataPath, { recursive: true, force: true });
});

/** A process's resident memory now and at its peak (since start or the last reset), in bytes (Linux). */
function residentOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = name => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)[1]) * 1024;
  return { now: kib("VmRSS"), peak: kib("VmHWM") };
}
/** Starts a process's peak resident memory afresh from its resident memory now. */
const resetPeak = pid => writeFileSync(`/proc/${pid}/clear_refs`, "5");

const connected = page => page.waitForFunction(() => ["connected", "resumed"].includes(document.querySelector("#connection").dataset.state));

test("a 200 MiB upload made in the page does not grow the page's heap by its size, and completes with its SHA-256", async () => {
  const part = randomBytes(PART);
  const expected = createHash("sha256");
  for (let i = 0; i < PARTS; i++) expected.update(part);
  const sha256 = expected.digest("hex");

  const p = await openPage(browser, server.url, "upload-heap");
  await p.page.goto("/");
  await connected(p.page);
  await signIn(p.page, "heap");

  const cdp = await p.context.newCDPSession(p.page);
  /** Bytes the page's JavaScript holds now: V8's heap in use and ArrayBuffer backing stores, after a collection. */
  const held = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const usage = await cdp.send("Runtime.getHeapUsage");
    assert.equal(typeof usage.backingStorageSize, "number", "this Chromium reports ArrayBuffer backing stores");
    return usage.usedSize + usage.backingStorageSize;
  };

  // Both measures see a file read whole: a 96 MiB buffer that the page fills shows in its heap and in the resident
  // memory of one renderer, which is the page's (the browser runs a few).
  const browserCdp = await browser.newBrowserCDPSession();
  const renderers = (await browserCdp.send("SystemInfo.getProcessInfo")).processInfo.filter(info => info.type === "renderer").map(info => info.id);
  const calm = await held();
  const residentBefore = new Map(renderers.map(pid => [pid, residentOf(pid).now]));
  await p.page.evaluate(size => { window.ballast = new Uint8Array(size).fill(1); }, BALLAST);
  const withBallast = await held();
  assert.ok(withBallast - calm >= BALLAST * 0.9, `the heap measure sees a 96 MiB buffer: ${((withBallast - calm) / MiB).toFixed(1)} MiB`);
  const renderer = renderers.find(pid => residentOf(pid).now - residentBefore.get(pid) >= BALLAST * 0.9);
  assert.ok(renderer, `one renderer's resident memory grew by the 96 MiB buffer: ${renderers.map(pid => `${pid}: ${((residentOf(pid).now - residentBefore.get(pid)) / MiB).toFixed(1)} MiB`).join(", ")}`);
  await p.page.evaluate(() => { delete window.ballast; });

  // The file, made in the page from one part: the page holds the part (1 MiB), the browser holds the file's bytes.
  await p.page.evaluate(([base64, parts]) => {
    const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
    window.largeFile = new File(Array.from({ length: parts }, () => bytes), "large.bin", { type: "application/octet-stream" });
  }, [part.toString("base64"), PARTS]);
  assert.equal(await p.page.evaluate(() => window.largeFile.size), SIZE);
  const baseline = await held();
  const residentAtStart = residentOf(renderer).now;
  resetPeak(renderer);

  // Picked as a user picks it: into the file input, whose change starts the upload.
  const started = Date.now();
  await p.page.evaluate(() => {
    const input = document.querySelector("#upload-file");
    const transfer = new DataTransfer();
    transfer.items.add(window.largeFile);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  let peak = 0;
  const samples = [];
  for (;;) {
    const done = await p.page.evaluate(() => document.querySelector("#upload-result").dataset.match !== undefined
      || document.querySelector("#upload-error").textContent !== "");
    const growth = (await held()) - baseline;
    peak = Math.max(peak, growth);
    samples.push(Math.round(growth / MiB));
    if (done) break;
    assert.ok(Date.now() - started < 120_000, `the upload did not end within 120 s; at ${await p.page.getAttribute("#upload-progress", "data-percent")}%`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  const seconds = (Date.now() - started) / 1000;
  const peakResident = residentOf(renderer).peak - residentAtStart;
  console.log(`# ${(SIZE / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s; renderer's peak resident growth ${(peakResident / MiB).toFixed(1)} MiB; heap growth after GC, MiB, per 250 ms: ${samples.join(" ")}`);

  assert.equal(await p.page.textContent("#upload-error"), "", "the upload did not fail");
  assert.equal(await p.page.getAttribute("#upload-progress", "data-percent"), "100");
  assert.equal(await p.page.getAttribute("#upload-result", "data-sha256"), sha256, "the server's SHA-256 is the file's");
  assert.equal(await p.page.getAttribute("#upload-result", "data-match"), "true", "the page's own hash agrees");
  assert.equal(Number((await p.page.textContent('#upload-result dd[data-field="bytes"]')).replace(/\D/g, "")), SIZE);
  assert.ok(peak < HEAP_BOUND, `the page's heap grew by ${(peak / MiB).toFixed(1)} MiB at most while uploading ${(SIZE / MiB).toFixed(0)} MiB (bound ${HEAP_BOUND / MiB} MiB); samples ${samples.join(" ")}`);
  assert.ok(peakResident < PEAK_BOUND, `the page's renderer peaked ${(peakResident / MiB).toFixed(1)} MiB above its resident memory at the start (bound ${PEAK_BOUND / MiB} MiB)`);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});
