// The uploads view's summary of a finished upload (web/src/summary.js), without a browser: every field of the
// contract's LogSummary and CsvSummary that the page shows, from results shaped as the server sends them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { summaryRows, delimiterName, rejectionText } from "../../web/src/summary.js";

const rowsOf = result => Object.fromEntries(summaryRows(result));

test("a log's summary shows its entries by level, its lines and the format recognised", () => {
  const rows = rowsOf({
    log: { lines: 1200, entries: 1003, errors: 2, warnings: 1, infos: 990, debug: 7, other: 3, format: "serilog",
      firstErrors: [{ line: 17, text: "[12:00:01 ERR] Disk full" }] },
  });
  assert.equal(rows["log entries"], "1,003 in 1,200 lines: 2 errors, 1 warnings, 990 infos, 7 debug, 3 other");
  assert.equal(rows["log format"], "serilog");
  assert.equal(rows["error 1"], "line 17: [12:00:01 ERR] Disk full");
  assert.equal(rowsOf({ log: { lines: 0, entries: 0, errors: 0, warnings: 0, infos: 0, debug: 0, other: 0, format: "", firstErrors: [] } })["log format"],
    "not recognised");
});

test("a CSV's summary shows its layout, delimiter and header, rows and readings, and which column a rejection was in", () => {
  const rows = rowsOf({
    csv: { layout: "wide", delimiter: ";", header: true, rows: 3, accepted: 5, rejected: 2,
      firstRejections: [
        { line: 3, code: "invalid_argument", reason: "not a number: 'abc'", column: "plant-1/line-1/t" },
        { line: 4, code: "invalid_argument", reason: "no timestamp", column: null },
      ] },
  });
  assert.equal(rows["CSV layout"], "wide, semicolon (;), with a header");
  assert.equal(rows["CSV rows"], "3 rows: 5 readings accepted, 2 rejected");
  assert.equal(rows["rejection 1"], "line 3, column plant-1/line-1/t: not a number: 'abc' [invalid_argument]");
  assert.equal(rows["rejection 2"], "line 4: no timestamp [invalid_argument]");
  assert.equal(rowsOf({ csv: { layout: "", delimiter: "", header: false, rows: 0, accepted: 0, rejected: 0, firstRejections: [] } })["CSV layout"],
    "–, –, no header");
});

test("delimiters are named, a rejection saved before codes reads without one, and a plain file has no summary", () => {
  assert.deepEqual([",", ";", "\t", "|", ""].map(delimiterName), ["comma (,)", "semicolon (;)", "tab", "pipe (|)", "–"]);
  assert.equal(rejectionText({ line: 9, code: "", reason: "too few fields" }), "line 9: too few fields");
  assert.deepEqual(summaryRows({ uploadId: "u", bytes: 3, sha256: "x", complete: true, log: null, csv: null }), []);
});
