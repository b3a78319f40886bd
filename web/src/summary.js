// What the uploads view says about a finished upload's content: the server's LogSummary (a text/plain upload) and
// CsvSummary (a text/csv upload), as label/value rows. Plain data in, plain data out, so that it is tested without a
// browser (tests/browser/summary.test.mjs). The summaries' fields are the contract's (docs/contract.md, UploadResult).

const DELIMITERS = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe" };
const count = n => Number(n ?? 0).toLocaleString("en-US");

/** A delimiter as words ("comma (,)", "tab"), or "–" before the first line. */
export const delimiterName = d => (!d ? "–" : d === "\t" ? "tab" : DELIMITERS[d] ? `${DELIMITERS[d]} (${d})` : JSON.stringify(d));

/** One rejection: "line 12, column plant-1/t: why [code]"; a whole row has no column. */
export function rejectionText(r) {
  const where = r.column === null || r.column === undefined ? `line ${r.line}` : `line ${r.line}, column ${r.column}`;
  return `${where}: ${r.reason}${r.code ? ` [${r.code}]` : ""}`;
}

/** The rows of a LogSummary: entries by level (they add up to `entries`), physical lines, the format recognised. */
export function logRows(log) {
  return [
    ["log entries", `${count(log.entries)} in ${count(log.lines)} lines: ${count(log.errors)} errors, ${count(log.warnings)} warnings, `
      + `${count(log.infos)} infos, ${count(log.debug)} debug, ${count(log.other)} other`],
    ["log format", log.format || "not recognised"],
    ...(log.firstErrors ?? []).map((e, i) => [`error ${i + 1}`, `line ${e.line}: ${e.text}`]),
  ];
}

/** The rows of a CsvSummary: how the file was read (layout, delimiter, header), rows and readings, first rejections. */
export function csvRows(csv) {
  return [
    ["CSV layout", `${csv.layout || "–"}, ${delimiterName(csv.delimiter)}, ${csv.header ? "with a header" : "no header"}`],
    ["CSV rows", `${count(csv.rows)} rows: ${count(csv.accepted)} readings accepted, ${count(csv.rejected)} rejected`],
    ...(csv.firstRejections ?? []).map((r, i) => [`rejection ${i + 1}`, rejectionText(r)]),
  ];
}

/** Every content row of an UploadResult (none for a file the server does not read). */
export function summaryRows(result) {
  return [...(result.log ? logRows(result.log) : []), ...(result.csv ? csvRows(result.csv) : [])];
}
