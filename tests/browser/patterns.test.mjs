// The dashboard's pattern module, without a browser: how the overview's filter box maps to a SubscribeMany pattern,
// and the parser that mirrors SensorPattern.TryParse/Matches (the server's, property-tested in SensorHub.Tests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePattern, overviewFilter } from "../../web/src/patterns.js";

test("patterns match as MQTT topic filters over sensor-id levels", () => {
  const cases = [
    ["#", "a", true], ["#", "a/b/c", true],
    ["plant-1/#", "plant-1", true], ["plant-1/#", "plant-1/x/y", true], ["plant-1/#", "plant-10/x", false],
    ["plant-1/+/temperature", "plant-1/line-1/temperature", true], ["plant-1/+/temperature", "plant-1//temperature", true],
    ["plant-1/+/temperature", "plant-1/a/b/temperature", false], ["plant-1/+/temperature", "plant-1/line-1", false],
    ["+", "a", true], ["+", "a/b", false], ["+/#", "a", true], ["+/#", "a/b", true],
    ["a/b", "a/b", true], ["a/b", "a/b/c", false], ["a/b", "a", false],
  ];
  for (const [pattern, id, expected] of cases) assert.equal(parsePattern(pattern).matches(id), expected, `${pattern} ~ ${id}`);
});

test("a pattern's prefix is where a sorted listing starts", () => {
  const prefixes = { "#": "", "plant-1/#": "plant-1", "plant-1/+/t": "plant-1/", "+/t": "", "a/b": "a/b", "a/b/+": "a/b/" };
  for (const [pattern, prefix] of Object.entries(prefixes)) assert.equal(parsePattern(pattern).prefix, prefix, pattern);
});

test("malformed patterns are not parsed", () => {
  for (const text of ["", "a/#/b", "line+", "a/b#", "/a", "a b", "x".repeat(129)]) assert.equal(parsePattern(text), null, JSON.stringify(text));
  assert.notEqual(parsePattern("x".repeat(128)), null);
});

test("the filter box: empty is every sensor, a prefix streams the levels it completes, a wildcard is the pattern", () => {
  const empty = overviewFilter("  ");
  assert.deepEqual([empty.pattern, empty.listPrefix, empty.accepts("a/b")], ["#", "", true]);

  const level = overviewFilter("plant-1/line-2/");
  assert.deepEqual([level.pattern, level.listPrefix], ["plant-1/line-2/#", "plant-1/line-2/"]);
  assert.deepEqual(["plant-1/line-2/power", "plant-1/line-2", "plant-1/line-20/x"].map(level.accepts), [true, false, false]);

  const partial = overviewFilter("plant-1/li");
  assert.deepEqual([partial.pattern, partial.listPrefix], ["plant-1/#", "plant-1/li"]);
  assert.deepEqual(["plant-1/line-1/a", "plant-1/other"].map(partial.accepts), [true, false]);
  assert.equal(overviewFilter("plant").pattern, "#");

  const wildcard = overviewFilter("plant-1/+/pressure");
  assert.deepEqual([wildcard.pattern, wildcard.listPrefix], ["plant-1/+/pressure", "plant-1/"]);
  assert.deepEqual(["plant-1/line-1/pressure", "plant-1/line-1/power"].map(wildcard.accepts), [true, false]);

  // Malformed: sent as typed (the server's refusal is what the page shows); nothing is listed or shown for it.
  const malformed = overviewFilter("plant-1/#/pressure");
  assert.deepEqual([malformed.pattern, malformed.listPrefix, malformed.accepts("plant-1/x/pressure")], ["plant-1/#/pressure", null, false]);

  // A prefix no id can have: sent as typed (the refusal names "/a", not the "/#" made from it), nothing listed.
  for (const text of ["/a", "plant 1/", "/"]) {
    const impossible = overviewFilter(text);
    assert.deepEqual([impossible.pattern, impossible.listPrefix, impossible.accepts("a")], [text, null, false], text);
  }
});
