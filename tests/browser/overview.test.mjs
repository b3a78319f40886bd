// The overview: one SubscribeMany stream on its filter, rows updated in place, no ListSensors poll, and a stream that
// is disposed when the filter changes or the view closes. The simulated sensors of the Development settings publish
// (pressure 5 a second, so one a second reaches the overview's maxRate of 1); a second page publishes new sensors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startServer, launchBrowser, openPage, stats, until, signIn, failableHub, startPublishing } from "./harness.mjs";

const PRESSURE = "plant-1/line-1/pressure";
const POWER = "plant-1/line-2/power";
const VIBRATION = "plant-1/line-2/vibration";
let server, browser;

before(async () => { [server, browser] = await Promise.all([startServer(), launchBrowser()]); });
after(async () => { await browser?.close(); await server?.stop(); });

const connected = page => page.waitForFunction(() => ["connected", "resumed"].includes(document.querySelector("#connection").dataset.state));
const overview = page => page.evaluate(() => window.sensorhub.overview.snapshot());
const rowSelector = id => `#sensors tr[data-sensor="${id}"]`;
const live = page => until(async () => (await overview(page)).live, { what: "the overview's stream" });

/** Marks a row, its Open button and its sparkline with a JS property: only the same elements still carry it. */
const mark = (page, id, tag) => page.evaluate(([sel, t]) => {
  const tr = document.querySelector(sel);
  tr.mark = t; tr.querySelector("button").mark = t; tr.querySelector("polyline").mark = t;
}, [rowSelector(id), tag]);

/** The row as it is now: its marks (undefined on a replaced element), sequence, value text and sparkline points. */
const row = (page, id) => page.evaluate(sel => {
  const tr = document.querySelector(sel);
  if (!tr) return null;
  const points = tr.querySelector("polyline").getAttribute("points");
  return {
    mark: tr.mark, buttonMark: tr.querySelector("button").mark, sparkMark: tr.querySelector("polyline").mark,
    sequence: Number(tr.dataset.sequence || NaN), value: tr.querySelector(".reading").textContent,
    points: points ? points.split(" ").length : 0, text: tr.textContent,
  };
}, rowSelector(id));

test("a row updates in place from one SubscribeMany stream, and ListSensors is not polled", async () => {
  const p = await openPage(browser, server.url, "overview-in-place");
  const hub = await failableHub(p.page);
  await p.page.goto("/?protocol=json");
  await connected(p.page);
  await p.page.waitForSelector(rowSelector(PRESSURE));
  await live(p.page);
  assert.equal((await overview(p.page)).pattern, "#", "an empty filter subscribes to every sensor");
  const listed = hub.calls("ListSensors");
  assert.equal(listed, 1, "one ListSensors page gave the table its rows");
  await mark(p.page, PRESSURE, "kept");
  const start = await row(p.page, PRESSURE);

  // Several readings later (one a second at the overview's maxRate) the row is the same element, with new values.
  const values = new Set([start.value]);
  await until(async () => {
    const now = await row(p.page, PRESSURE);
    assert.equal(now.mark, "kept", "the row's element was never replaced");
    values.add(now.value);
    return now.sequence >= start.sequence + 4 && values.size >= 2;
  }, { timeout: 15000, what: "readings moving the pressure row" });
  const end = await row(p.page, PRESSURE);
  assert.deepEqual([end.mark, end.buttonMark, end.sparkMark], ["kept", "kept", "kept"], "row, button and sparkline stayed the same elements");
  assert.ok(end.points > start.points, `the sparkline grew: ${start.points} -> ${end.points} points`);
  assert.match(end.text, /hPa/, "the unit from the listing stays");

  // Over those seconds no ListSensors poll (the old page asked once a second), and the stream was opened once.
  assert.equal(hub.calls("ListSensors"), listed, "no ListSensors call after the first page");
  assert.equal(hub.calls("SubscribeMany"), 1, "one SubscribeMany");
  assert.equal(hub.calls("Subscribe"), 0, "no per-sensor Subscribe for the overview");

  // The button on the row opens its chart (the click lands on the row's one button).
  await p.page.click(`${rowSelector(PRESSURE)} button`);
  await p.page.waitForSelector(`article[data-sensor="${PRESSURE}"]`);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("a sensor that starts publishing after the page opened appears as a row, in id order", async () => {
  const device = `lab-${randomUUID().slice(0, 8)}/probe`;
  const p = await openPage(browser, server.url, "overview-new-sensor");
  await p.page.goto("/");
  await connected(p.page);
  await p.page.fill("#filter", "lab-");
  await until(async () => { const o = await overview(p.page); return o.filter === "lab-" && o.pattern === "#" && o.live; }, { what: "the filtered stream" });
  assert.deepEqual((await overview(p.page)).ids, [], "no lab sensor yet");

  const publisher = await openPage(browser, server.url, "overview-publisher");
  await publisher.page.goto("/");
  await connected(publisher.page);
  await signIn(publisher.page, "lab-device");
  const feed = await startPublishing(publisher.page);
  await feed.publish(`${device}/b`, 1.25);
  await p.page.waitForSelector(rowSelector(`${device}/b`), { timeout: 10000 });
  await mark(p.page, `${device}/b`, "first");
  await feed.publish(`${device}/a`, 2.5);
  await p.page.waitForSelector(rowSelector(`${device}/a`), { timeout: 10000 });
  await until(async () => (await row(p.page, `${device}/a`)).value === "2.50", { what: "the new sensor's value" });
  // New rows go in id order, before the ones after them, without replacing them.
  assert.deepEqual(await p.page.$$eval("#sensors tr[data-sensor]", trs => trs.map(tr => tr.dataset.sensor)), [`${device}/a`, `${device}/b`]);
  await new Promise(resolve => setTimeout(resolve, 1100)); // the newest at its moment: the next second's reading
  await feed.publish(`${device}/b`, 3.75);
  await until(async () => (await row(p.page, `${device}/b`)).value === "3.75", { what: "the first new sensor's next value" });
  assert.equal((await row(p.page, `${device}/b`)).mark, "first", "updated in place");
  // A sensor the filter does not cover does not get a row.
  await feed.publish(`other-${device}`, 9);
  await feed.end();
  await new Promise(resolve => setTimeout(resolve, 500));
  assert.deepEqual((await overview(p.page)).ids, [`${device}/a`, `${device}/b`]);

  const errors = [...await p.finish(), ...await publisher.finish()];
  assert.deepEqual(errors, []);
});

test("a filter change replaces the stream, a malformed pattern is refused once, and closing the view disposes the stream", async () => {
  const p = await openPage(browser, server.url, "overview-filter");
  const hub = await failableHub(p.page);
  await p.page.goto("/?protocol=json");
  await connected(p.page);
  await p.page.waitForSelector(rowSelector(VIBRATION));
  await live(p.page);
  // Other tests' pages may still be closing: wait until this page's count stands still.
  let streams = null;
  await until(async () => {
    const before = (await stats(server.url)).activeStreams;
    await new Promise(resolve => setTimeout(resolve, 1000));
    streams = (await stats(server.url)).activeStreams;
    return before === streams;
  }, { what: "a steady stream count" });
  await mark(p.page, VIBRATION, "kept");

  // A prefix ending with "/" streams its level: the rows still covered stay the same elements.
  await p.page.fill("#filter", "plant-1/line-2/");
  await until(async () => { const o = await overview(p.page); return o.pattern === "plant-1/line-2/#" && o.live; }, { what: "the new filter's stream" });
  assert.deepEqual((await overview(p.page)).ids, [POWER, VIBRATION]);
  assert.equal((await row(p.page, VIBRATION)).mark, "kept", "a row the new filter covers is kept");
  assert.equal(hub.calls("SubscribeMany"), 2);
  await until(async () => (await stats(server.url)).activeStreams === streams, { what: "the old stream disposed (one stream still)" });

  // A wildcard pattern is used as typed.
  await p.page.fill("#filter", "plant-1/+/pressure");
  await until(async () => { const o = await overview(p.page); return o.pattern === "plant-1/+/pressure" && o.live; }, { what: "the pattern's stream" });
  assert.deepEqual((await overview(p.page)).ids, [PRESSURE]);
  await until(async () => (await row(p.page, PRESSURE)).sequence > 0, { what: "a pressure reading" });

  // A malformed pattern: the server's invalid_argument, shown under the filter, and not asked again.
  await p.page.fill("#filter", "plant-1/#/pressure");
  await p.page.waitForSelector('#overview-status[data-code="invalid_argument"]', { timeout: 10000 });
  const message = await p.page.textContent("#overview-status");
  assert.match(message, /plant-1\/#\/pressure/, `the message names the pattern: ${message}`);
  assert.deepEqual((await overview(p.page)).ids, []);
  const refusedCalls = hub.calls("SubscribeMany");
  await new Promise(resolve => setTimeout(resolve, 1500));
  assert.equal(hub.calls("SubscribeMany"), refusedCalls, "a refusal is not retried");
  assert.equal((await overview(p.page)).live, false);
  await until(async () => (await stats(server.url)).activeStreams === streams - 1, { what: "no stream for a refused pattern" });

  // Back to every sensor, then the view closes: its stream ends on the server.
  await p.page.fill("#filter", "");
  await until(async () => { const o = await overview(p.page); return o.filter === "" && o.live; }, { what: "the stream on every sensor" });
  assert.equal(await p.page.textContent("#overview-status"), "", "the refusal's message goes with its filter");
  await until(async () => (await stats(server.url)).activeStreams === streams, { what: "one stream again" });
  await p.page.evaluate(() => window.sensorhub.overview.close());
  await until(async () => (await stats(server.url)).activeStreams === streams - 1, { what: "the overview's stream disposed" });
  assert.equal(await p.page.locator("#sensors tr").count(), 0);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("after a drop and after backend_unavailable the overview subscribes again, live, keeping its rows", async () => {
  const p = await openPage(browser, server.url, "overview-failover");
  const hub = await failableHub(p.page, { targets: ["SubscribeMany"] });
  await p.page.goto("/?protocol=json");
  await connected(p.page);
  await p.page.waitForSelector(rowSelector(PRESSURE));
  await live(p.page);
  await mark(p.page, PRESSURE, "kept");

  assert.equal(hub.failStreams(), 1, "one SubscribeMany stream was open");
  await p.page.waitForFunction(() => document.querySelector("#connection").dataset.state === "resumed", null, { timeout: 15000 });
  await live(p.page);
  const resumed = await row(p.page, PRESSURE);
  await until(async () => (await row(p.page, PRESSURE)).sequence > resumed.sequence, { what: "readings after the resume" });
  assert.equal((await row(p.page, PRESSURE)).mark, "kept", "the row stayed through the reconnection");
  // The reconnection lists once more (names, newest values) and subscribes once more.
  assert.equal(hub.calls("SubscribeMany"), 2);
  assert.equal(hub.calls("ListSensors"), 2);
  assert.equal(await p.page.textContent("#overview-status"), "");
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});

test("the table stops at 200 rows and says so; sensors appearing together are described by listing pages, not one call each", async () => {
  // Ids that sort after the simulated sensors: the other tests' "#" pages still show those among their 200 rows.
  const fleet = `zz-fleet-${randomUUID().slice(0, 8)}`;
  const p = await openPage(browser, server.url, "overview-bounded");
  const hub = await failableHub(p.page);
  await p.page.goto("/?protocol=json");
  await connected(p.page);
  await p.page.fill("#filter", `${fleet}/`);
  await until(async () => { const o = await overview(p.page); return o.pattern === `${fleet}/#` && o.live; }, { what: "the fleet's stream" });
  const listed = hub.calls("ListSensors");

  const publisher = await openPage(browser, server.url, "overview-fleet");
  await publisher.page.goto("/");
  await connected(publisher.page);
  await signIn(publisher.page, "fleet-gateway");
  const feed = await startPublishing(publisher.page);
  const ids = Array.from({ length: 205 }, (_, i) => `${fleet}/s-${String(i).padStart(3, "0")}`);
  await feed.publishEach(ids, 1);
  await feed.end();

  await until(async () => (await overview(p.page)).ids.length === 200 && (await overview(p.page)).truncated, { what: "200 rows and the note" });
  await p.page.waitForSelector("#sensors tr.more");
  const shown = (await overview(p.page)).ids;
  assert.ok(shown.every(id => ids.includes(id)), "only the fleet's sensors");
  assert.deepEqual(shown, [...shown].sort(), "in id order");
  assert.deepEqual(await p.page.$$eval("#sensors tr[data-sensor]", trs => trs.map(tr => tr.dataset.sensor)), shown);
  await new Promise(resolve => setTimeout(resolve, 1000));
  const asked = hub.calls("ListSensors") - listed;
  // One call per new sensor would be 200; the listing's pages take a few (however the readings were split in batches).
  assert.ok(asked >= 1 && asked <= 20, `new sensors described by listing pages, not one call each: ${asked} ListSensors calls`);
  assert.equal((await overview(p.page)).ids.length, 200, "still 200 rows");
  // The publisher's page (200 rows of its own) is closed without its full-page screenshot, which takes seconds.
  await publisher.context.close();
  const errors = [...await p.finish(), ...publisher.errors];
  assert.deepEqual(errors, []);
});
