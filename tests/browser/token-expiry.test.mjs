// A signed-in tab outlives its tokens: the server closes a connection once its token expires, and the page asks for a
// fresh dev token (identity.freshToken) when it reconnects, so its charts go on. Dev tokens last 4 s on this server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openPage, until, signIn } from "./harness.mjs";

const PRESSURE = "plant-1/line-1/pressure"; // 5 readings a second
let server, browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ settings: { "SensorHub:Auth:DevTokenLifetime": "00:00:04" } }), launchBrowser()]);
});
after(async () => { await browser?.close(); await server?.stop(); });

const chart = (page, id) => page.evaluate(i => window.sensorhub.chart(i), id);

test("a signed-in tab reconnects with a fresh token at each expiry: its chart resumes without a gap", async () => {
  const p = await openPage(browser, server.url, "token-expiry");
  const tokenRequests = [];
  const statsAuthorization = [];
  const refused = [];
  p.page.on("request", request => {
    const { pathname } = new URL(request.url());
    if (pathname === "/api/dev/token") tokenRequests.push(pathname);
    if (pathname === "/api/stats") statsAuthorization.push(request.headers().authorization ?? null);
  });
  p.page.on("response", response => { if (response.status() === 401) refused.push(response.url()); });
  await p.page.goto("/");
  await p.page.waitForFunction(() => ["connected", "resumed"].includes(document.querySelector("#connection").dataset.state));
  await signIn(p.page, "short-lived");
  await p.page.waitForSelector(`#sensors tr[data-sensor="${PRESSURE}"]`);
  await p.page.selectOption("#max-rate", "none"); // every reading: a gap would show
  await p.page.click(`#sensors tr[data-sensor="${PRESSURE}"] button`);

  // Two expiries at least, each followed by readings on the resumed stream.
  await until(async () => {
    const c = await chart(p.page, PRESSURE);
    return c?.resubscribes.length >= 2 && c.resubscribes.every(r => r.first !== null) && c.received >= 10;
  }, { timeout: 40000, what: "two reconnections after token expiries, and readings after them" });
  await p.page.waitForFunction(() => document.querySelector("#connection").dataset.state === "resumed", null, { timeout: 10000 });

  const c = await chart(p.page, PRESSURE);
  for (const { from, first } of c.resubscribes) assert.equal(first, from, "each resubscription starts at the last sequence + 1");
  assert.deepEqual(c.gaps, []);
  assert.equal(c.duplicates, 0);
  assert.equal(c.running, true, "the chart was not refused");
  assert.equal(await p.page.textContent(`article[data-sensor="${PRESSURE}"] .chart-status`), "live");
  assert.ok(tokenRequests.length >= 3, `sign-in and a fresh token per expiry: ${tokenRequests.length} token requests`);
  assert.deepEqual(refused, [], "no request was refused: the page renewed its token before sending an expired one");
  // The server panel sends the token once signed in, and shows the counters.
  assert.ok(statsAuthorization.slice(-3).every(h => h?.startsWith("Bearer ")), JSON.stringify(statsAuthorization.slice(-3)));
  await p.page.waitForFunction(() => document.querySelector("#stats").dataset.activeStreams !== undefined && !document.querySelector("#stats").dataset.refused);
  const errors = await p.finish();
  assert.deepEqual(errors, []);
});
