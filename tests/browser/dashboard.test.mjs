import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { startServer, launchBrowser, openPage, stats, until, signIn, artifacts, droppableHub, failableHub } from "./harness.mjs";

const PRESSURE = "plant-1/line-1/pressure";
const VIBRATION = "plant-1/line-2/vibration";
let server, browser;

before(async () => { [server, browser] = await Promise.all([startServer(), launchBrowser()]); });
after(async () => { await browser?.close(); await server?.stop(); });

const connected = page => page.waitForFunction(() => ["connected", "resumed"].includes(document.querySelector("#connection").dataset.state));
const openChart = async (page, id, rate = "20") => {
  await page.selectOption("#max-rate", rate);
  await page.click(`#sensors tr[data-sensor="${id}"] button`);
};
const chart = (page, id) => page.evaluate(i => window.sensorhub.chart(i), id);

test("readings arrive, the chart updates, and Stop ends the server's stream", async () => {
  const p = await openPage(browser, server.url, "readings-and-stop");
  await p.page.goto("/");
  await connected(p.page);
  await p.page.waitForSelector(`#sensors tr[data-sensor="${VIBRATION}"]`);
  await p.page.fill("#filter", "plant-1/line-2/");
  await until(async () => (await p.page.locator("#sensors tr").count()) === 2, { what: "filtered overview" });
  await openChart(p.page, VIBRATION);
  await until(async () => (await chart(p.page, VIBRATION))?.received >= 10, { what: "readings on the chart" });
  // The chart's DOM is updated per animation frame: it follows the readings.
  await p.page.waitForFunction(id => Number(document.querySelector(`article[data-sensor="${id}"]`).dataset.received) >= 10, VIBRATION);
  const during = (await stats(server.url)).activeStreams;
  assert.ok(during >= 1, `activeStreams during: ${during}`);
  await p.page.click(`article[data-sensor="${VIBRATION}"] button.stop`);
  await until(async () => (await stats(server.url)).activeStreams === during - 1, { what: "activeStreams to go down" });
  await p.page.waitForFunction(n => document.querySelector("#stats").dataset.activeStreams === String(n), during - 1);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

for (const protocol of ["msgpack", "json"]) test(`a 2 MB upload completes at 100% with the file's SHA-256 (${protocol})`, async () => {
  const p = await openPage(browser, server.url, `upload-${protocol}`);
  await p.page.goto(`/?protocol=${protocol}`);
  await connected(p.page);
  await signIn(p.page, "uploader");
  const bytes = randomBytes(2 * 1024 * 1024);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await p.page.setInputFiles("#upload-file", { name: "capture.bin", mimeType: "application/octet-stream", buffer: bytes });
  await p.page.waitForSelector("#upload-result[data-match]", { timeout: 20000 });
  assert.equal(await p.page.getAttribute("#upload-progress", "data-percent"), "100");
  assert.equal(await p.page.getAttribute("#upload-result", "data-sha256"), sha256);
  assert.equal(await p.page.textContent('#upload-result dd[data-field="SHA-256 (browser)"]'), sha256);
  assert.equal(await p.page.getAttribute("#upload-result", "data-match"), "true");
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("the uploads view shows what the server read in a CSV and in a log", async () => {
  const p = await openPage(browser, server.url, "upload-summaries");
  await p.page.goto("/");
  await connected(p.page);
  await signIn(p.page, "summaries");
  const field = name => p.page.textContent(`#upload-result dd[data-field="${name}"]`);
  const now = new Date().toISOString();
  // A header, two readings and a row whose timestamp does not parse (line 4).
  const csv = `sensorId,timestamp,value\nlab-csv/probe,${now},1.5\nlab-csv/probe,${now},2.5\nlab-csv/probe,not-a-time,3\n`;
  await p.page.setInputFiles("#upload-file", { name: "readings.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await p.page.waitForSelector('#upload-result[data-match="true"]', { timeout: 20000 });
  assert.equal(await field("CSV rows"), "3 rows: 2 readings accepted, 1 rejected");
  assert.equal(await field("CSV layout"), "long, comma (,), with a header");
  assert.match(await field("rejection 1"), /^line 4: .+\[invalid_argument\]$/, "a whole row's rejection names its line and code, no column");

  const log = "2026-11-30 12:00:00 ERROR disk full\n2026-11-30 12:00:01 WARN slow\n2026-11-30 12:00:02 INFO started\n";
  await p.page.setInputFiles("#upload-file", { name: "app.log", mimeType: "text/plain", buffer: Buffer.from(log) });
  await p.page.waitForFunction(() => document.querySelector('#upload-result dd[data-field="log format"]') !== null, null, { timeout: 20000 });
  assert.match(await field("log entries"), /^3 in 3 lines: 1 errors, 1 warnings, 1 infos, /);
  assert.match(await field("error 1"), /^line 1: .*disk full/);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("an upload resumes from GetUploadStatus after a dropped connection", async () => {
  const p = await openPage(browser, server.url, "upload-resume");
  await p.page.goto("/");
  await connected(p.page);
  await signIn(p.page, "resumer");
  const bytes = randomBytes(16 * 1024 * 1024);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await p.page.setInputFiles("#upload-file", { name: "big.bin", mimeType: "application/octet-stream", buffer: bytes });
  await p.page.waitForFunction(() => Number(document.querySelector("#upload-progress").dataset.percent) >= 5, null, { timeout: 20000 });
  // Dropped from the page's side: a drop from the server's side may leave Chromium logging a send on the closing
  // socket, which this test, which fails on any console error, cannot tell from a fault of the page.
  await p.page.evaluate(() => window.sensorhub.hub.simulateDrop());
  await p.page.waitForSelector("#upload-result[data-match]", { timeout: 30000 });
  assert.equal(await p.page.getAttribute("#upload-progress", "data-percent"), "100");
  assert.equal(await p.page.getAttribute("#upload-result", "data-sha256"), sha256);
  assert.ok(await p.page.evaluate(() => window.sensorhub.uploads.resumes) >= 1, "the upload resumed");
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("a refused upload is shown once and not retried", async () => {
  // One Upload stream per connection: a second file sent while the first is still sending is refused with
  // too_many_uploads, whose text mentions "connection" (the old page took that for a drop and retried 20 times).
  const limited = await startServer({ settings: { "SensorHub:Uploads:MaxUploadsPerConnection": "1" } });
  try {
    const p = await openPage(browser, limited.url, "upload-refused");
    // Counts the page's hub calls by method, on the wire (JSON protocol).
    const hub = await failableHub(p.page);
    await p.page.goto("/?protocol=json");
    await connected(p.page);
    await signIn(p.page, "refused");
    const bytes = randomBytes(8 * 1024 * 1024);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    await p.page.setInputFiles("#upload-file", { name: "first.bin", mimeType: "application/octet-stream", buffer: bytes });
    await p.page.waitForFunction(() => Number(document.querySelector("#upload-progress").dataset.percent) >= 5, null, { timeout: 20000 });
    await p.page.setInputFiles("#upload-file", { name: "second.bin", mimeType: "application/octet-stream", buffer: randomBytes(1000) });

    await p.page.waitForFunction(() => document.querySelector("#upload-error").textContent !== "", null, { timeout: 20000 });
    await p.page.waitForSelector("#upload-result[data-match]", { timeout: 30000 });
    await new Promise(resolve => setTimeout(resolve, 1000)); // time for a retry that must not come
    assert.equal(await p.page.textContent("#upload-error"),
      "upload failed: Too many uploads at once: this connection already runs 1, the most allowed.");
    assert.equal(await p.page.getAttribute("#upload-error", "data-code"), "too_many_uploads");
    assert.deepEqual(["BeginUpload", "Upload", "GetUploadStatus"].map(hub.calls), [2, 2, 0]);
    assert.deepEqual(await p.page.evaluate(() => [window.sensorhub.uploads.failures, window.sensorhub.uploads.resumes]), [1, 0]);
    // The first upload was not disturbed.
    assert.equal(await p.page.getAttribute("#upload-result", "data-sha256"), sha256);
    assert.equal(await p.page.getAttribute("#upload-result", "data-match"), "true");
    const errors = await p.finish();
    assert.deepEqual(errors, []);
  } finally {
    await limited.stop();
  }
});

test("after a dropped connection a chart resubscribes from its last sequence + 1 without a gap, a paced one live", async () => {
  const p = await openPage(browser, server.url, "reconnect");
  const hub = await droppableHub(p.page);
  await p.page.goto("/");
  await connected(p.page);
  await p.page.waitForSelector(`#sensors tr[data-sensor="${PRESSURE}"]`);
  await openChart(p.page, PRESSURE, "none");   // every reading: no gap allowed
  await openChart(p.page, VIBRATION, "20");     // paced
  await until(async () => (await chart(p.page, PRESSURE))?.received >= 3 && (await chart(p.page, VIBRATION))?.received >= 3, { what: "readings before the drop" });
  await hub.drop();
  await p.page.waitForFunction(() => document.querySelector("#connection").dataset.state === "resumed", null, { timeout: 15000 });
  await until(async () => {
    const [a, b] = [await chart(p.page, PRESSURE), await chart(p.page, VIBRATION)];
    return a.resubscribes[0]?.first !== null && a.resubscribes.length && b.resubscribes[0]?.first !== null && b.resubscribes.length && a.received >= 8;
  }, { what: "readings after the reconnect" });
  // Every reading (no maxRate): the library resubscribed from the last sequence shown plus one, and history covered
  // the drop, so the first reading after it is that one.
  const pressure = await chart(p.page, PRESSURE);
  assert.equal(pressure.resubscribes.length, 1, "the chart without maxRate resubscribed once");
  const [seam] = pressure.resubscribes;
  assert.equal(seam.reason, "connectionLost");
  assert.equal(seam.from, seam.after + 1, `asked from the last sequence shown plus one: ${JSON.stringify(seam)}`);
  assert.equal(seam.first, seam.from, "history covers the drop: the first reading is last + 1");
  assert.deepEqual(pressure.gaps, [], "no gap in the sequences of a chart without maxRate");
  // Paced (maxRate 20): it resumes live (a replay of what it skipped would come unpaced), never going back.
  const vibration = await chart(p.page, VIBRATION);
  assert.equal(vibration.resubscribes.length, 1, "the paced chart resubscribed once");
  const [live] = vibration.resubscribes;
  assert.equal(live.from, null, `a paced chart resumes live: ${JSON.stringify(live)}`);
  assert.ok(live.first > live.after, `the first reading after the drop is newer than the last before it: ${JSON.stringify(live)}`);
  for (const c of [pressure, vibration]) assert.equal(c.duplicates, 0, `${c.sensorId} duplicates`);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("signing in and out restarts the connection: an open chart goes on from its last sequence + 1 each time", async () => {
  const p = await openPage(browser, server.url, "restart-identity");
  await p.page.goto("/");
  await connected(p.page);
  await p.page.waitForSelector(`#sensors tr[data-sensor="${PRESSURE}"]`);
  await openChart(p.page, PRESSURE, "none"); // every reading: a gap would show
  await until(async () => (await chart(p.page, PRESSURE))?.received >= 3, { what: "readings as a guest" });
  await signIn(p.page, "restarter");
  await until(async () => (await chart(p.page, PRESSURE)).resubscribes[0]?.first != null, { what: "readings after signing in" });
  await p.page.click("#sign-out");
  await p.page.waitForFunction(() => document.querySelector("#user").textContent.includes("guest"));
  await until(async () => (await chart(p.page, PRESSURE)).resubscribes[1]?.first != null, { what: "readings after signing out" });
  const c = await chart(p.page, PRESSURE);
  assert.equal(c.resubscribes.length, 2, "one resubscription per restart");
  for (const { from, first } of c.resubscribes) assert.equal(first, from, "each restart goes on at the last sequence + 1");
  assert.deepEqual(c.gaps, []);
  assert.equal(c.duplicates, 0);
  assert.equal(c.running, true);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("two users share a session: presence, each other's annotations, and its end", async () => {
  const a = await openPage(browser, server.url, "session-alice");
  const b = await openPage(browser, server.url, "session-bob", { viewport: { width: 390, height: 844 } });
  await a.page.goto("/");
  await connected(a.page);
  await signIn(a.page, "alice");
  await a.page.waitForSelector(`#sensors tr[data-sensor="${PRESSURE}"]`);
  await openChart(a.page, PRESSURE);
  await a.page.click("#session-create button[type=submit]");
  const link = await a.page.waitForSelector("#session-link a").then(h => h.getAttribute("href"));
  const id = new URL(link).searchParams.get("session");

  await b.page.goto("/");
  await connected(b.page);
  await signIn(b.page, "bob");
  await b.page.goto(`/?session=${id}`);
  await connected(b.page);
  for (const page of [a.page, b.page]) {
    // Presence is keyed by the participant's id; a dev token's id (its subject) is its name.
    await page.waitForSelector('#session-people li[data-user="alice"][data-id="alice"]');
    await page.waitForSelector('#session-people li[data-user="bob"][data-id="bob"]');
  }
  await b.page.waitForSelector(`article[data-sensor="${PRESSURE}"]`); // the session's charts open for the joiner

  await a.page.fill("#annotation-text", "from alice");
  await a.page.press("#annotation-text", "Enter");
  await b.page.fill("#annotation-text", "from bob");
  await b.page.click("#session-annotate button[type=submit]");
  for (const page of [a.page, b.page]) {
    await page.waitForFunction(() => [...document.querySelectorAll("#session-annotations .text")].map(e => e.textContent).sort().join() === "from alice,from bob");
  }
  // The README's picture of the dashboard (copied to docs/dashboard.png by hand when the page changes).
  await until(async () => (await chart(a.page, PRESSURE)).received >= 12, { what: "a filled chart" });
  await a.page.screenshot({ path: path.join(artifacts, "dashboard.png") });
  await a.page.click("#session-end");
  for (const page of [a.page, b.page]) await page.waitForSelector('#session[data-state="ended"]');
  assert.match(await b.page.textContent("#session-state"), /has ended/);

  const errors = [...await a.finish(), ...await b.finish()];
  assert.deepEqual(errors, []);
});

test("the hub connects without negotiation, and a stream ended with backend_unavailable resumes like a drop", async () => {
  const p = await openPage(browser, server.url, "backend-unavailable");
  const hub = await failableHub(p.page);
  await p.page.goto("/?protocol=json");
  await connected(p.page);
  await p.page.waitForSelector(`#sensors tr[data-sensor="${PRESSURE}"]`);
  await openChart(p.page, PRESSURE, "none");
  await until(async () => (await chart(p.page, PRESSURE))?.received >= 3, { what: "readings before the outage" });
  assert.equal(hub.failStreams(), 1, "one Subscribe stream was open");
  // Not shown as a refusal: the page drops its connection, reconnects (to another node, behind a balancer) and resumes.
  await p.page.waitForFunction(() => document.querySelector("#connection").dataset.state === "resumed", null, { timeout: 15000 });
  await until(async () => (await chart(p.page, PRESSURE))?.resubscribes[0]?.first != null, { what: "readings after the resume" });
  const c = await chart(p.page, PRESSURE);
  assert.equal(c.resubscribes.length, 1, "resubscribed once");
  assert.equal(c.resubscribes[0].first, c.resubscribes[0].from, "resumed from the last sequence plus one");
  assert.deepEqual(c.gaps, []);
  assert.equal(c.duplicates, 0);
  assert.equal(c.running, true, "the chart is not ended by the error");
  assert.equal(hub.negotiations, 0, "WebSockets without negotiation");
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});
