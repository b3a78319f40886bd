// Uploads and downloads over both protocols: a file larger than the memory the uploading process may use, sent from a
// file-backed Blob, resumes after a dropped transport and completes with the right SHA-256; an upload begun and
// aborted resumes by its id; a download resumes after a drop and hands back the same bytes.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { PROTOCOLS, connect, startServer, within } from "./helpers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
// The child's heap is capped at 16 MiB; the file is half as large again. What the upload adds to the memory JavaScript
// holds (heap and ArrayBuffers, sampled every 200 ms after a full collection; see upload-child.mjs) must stay at a small
// fraction of the file: median under an eighth (the chunks in flight are 16 of 64 KiB), 90th percentile under half.
const FILE_BYTES = 24 * MiB;
const HEAP_MIB = 16;

let server;
let dir;
let file;
let sha256;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "sensorhub-js-upload-"));
  file = path.join(dir, "capture.bin");
  const hash = createHash("sha256");
  const fd = openSync(file, "w");
  const block = randomBytes(MiB);
  for (let i = 0; i < FILE_BYTES / MiB; i++) {
    block[0] = i; // each MiB differs, so a misplaced chunk changes the hash
    writeSync(fd, block);
    hash.update(block);
  }
  closeSync(fd);
  sha256 = hash.digest("hex");
  server = await startServer();
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mib = bytes => (bytes / MiB).toFixed(1);

function assertBounded(outcome) {
  assert.ok(outcome.samples >= 5, `enough samples (${outcome.samples})`);
  assert.ok(outcome.median < FILE_BYTES / 8, `the upload added ${mib(outcome.median)} MiB (median) for a ${mib(FILE_BYTES)} MiB file`);
  assert.ok(outcome.p90 < FILE_BYTES / 2, `the upload added ${mib(outcome.p90)} MiB (90th percentile) for a ${mib(FILE_BYTES)} MiB file`);
}

function runChild(protocol, mode) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, "--expose-gc", path.join(here, "upload-child.mjs"), server.url, protocol, file, mode],
      { timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").at(-1);
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`the child failed (${error?.message}):\n${stdout}\n${stderr}`));
        }
      });
  });
}

for (const protocol of PROTOCOLS) {
  describe(`uploads over ${protocol}`, () => {
    let uploadId;

    test("a file larger than the uploader's memory resumes after a drop and completes with the right hash", async t => {
      const outcome = await runChild(protocol, "drop");
      assert.equal(outcome.ok, true, outcome.error);
      uploadId = outcome.result.uploadId;
      t.diagnostic(`the upload added ${mib(outcome.median)} MiB (median; 90th percentile ${mib(outcome.p90)}, ${outcome.samples} samples) to the ${mib(outcome.baseline)} MiB JavaScript held before it`);
      assert.equal(outcome.dropped, true, "the transport was dropped mid-upload");
      assert.ok(outcome.resumes >= 1, "the upload resumed");
      assert.equal(outcome.result.complete, true);
      assert.equal(outcome.result.bytes, FILE_BYTES);
      assert.equal(outcome.result.sha256, sha256, "the server's hash is the file's");
      assert.equal(outcome.lastPercent, 100);
      assertBounded(outcome);
    });

    // The hash's catch-up does not depend on the protocol: once is enough.
    test("an upload aborted part-way resumes by its id, hashing the prefix from the Blob", { skip: protocol === "json" && "the same code as over msgpack" }, async () => {
      const outcome = await runChild(protocol, "resume");
      assert.equal(outcome.ok, true, outcome.error);
      assert.equal(outcome.result.aborted, "AbortError");
      assert.ok(outcome.result.statusAtAbort > 0 && outcome.result.statusAtAbort < FILE_BYTES, "the server kept part of it");
      assert.equal(outcome.result.sha256, sha256);
      assert.equal(outcome.result.bytes, FILE_BYTES);
      assertBounded(outcome);
    });

    test("small uploads: a CSV's summary, a log's, an empty file", async () => {
      const client = await connect(server.url, { protocol, name: "small" });
      try {
        const rows = Array.from({ length: 5 }, (_, i) => `js/${protocol}/csv,2026-11-30T10:00:0${i}Z,${i}`);
        const csv = await client.upload(new Blob([["sensorId,timestamp,value", ...rows, "not,a-row"].join("\n") + "\n"]), { name: "readings.csv", csv: { delimiter: "," } });
        assert.equal(csv.contentType, undefined, "a result, not a status");
        assert.equal(csv.csv.accepted, 5);
        assert.equal(csv.csv.rejected, 1);
        assert.deepEqual(csv.csv.firstRejections.map(r => [r.line, r.code]), [[7, "invalid_argument"]]);
        const log = await client.upload(new Blob(["INFO started\nERROR it broke\n"]), { name: "service.log" });
        assert.equal(log.log.errors, 1);
        assert.equal(log.csv, null);
        const empty = await client.upload(new Blob([]), { name: "empty.bin" });
        assert.equal(empty.complete, true);
        assert.equal(empty.sha256, createHash("sha256").digest("hex"));
      } finally {
        await client.stop();
      }
    });

    test("a download resumes after a drop and hands back the same bytes", async () => {
      assert.ok(uploadId, "the upload test ran");
      const client = await connect(server.url, { protocol, name: "reader", roles: ["viewer"] });
      try {
        const hash = createHash("sha256");
        let bytes = 0;
        let dropped = false;
        await within((async () => {
          for await (const chunk of client.download(uploadId)) {
            assert.ok(chunk instanceof Uint8Array);
            hash.update(chunk);
            bytes += chunk.byteLength;
            if (!dropped && bytes > FILE_BYTES / 3) {
              dropped = true;
              await client.simulateDrop();
            }
          }
        })(), 30_000, "the download");
        assert.equal(bytes, FILE_BYTES);
        assert.equal(hash.digest("hex"), sha256);
        const listed = await client.listUploads();
        assert.ok(Array.isArray(listed));
        const status = await client.getUploadStatus(uploadId);
        assert.equal(status.complete, true);
        assert.equal(status.sha256, sha256);
      } finally {
        await client.stop();
      }
    });
  });
}
