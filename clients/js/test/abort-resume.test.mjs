// The new user's trial (issues 17-18, items 3 and 4): an upload aborted and resumed by its id at once, on the same
// client, completes with the right hash (the server may still hold the aborted call's writer: upload_has_writer is
// waited out); a call the server cannot bind (a wrongly typed argument) ends at once as a server fault, not retried as
// a lost connection.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { SensorHubError } from "../dist/index.js";
import { PROTOCOLS, connect, startServer, within } from "./helpers.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

for (const protocol of PROTOCOLS) {
  describe(`over ${protocol}`, () => {
    test("an upload aborted at about 20% and resumed by its id at once completes with the right hash", async t => {
      // A CSV: its readings are processed while the writer holds the upload, so the server lets go of the aborted
      // call's writer a while after the abort (an 8 MiB binary file mostly let go in time; this never did before).
      const lines = ["sensorId,timestamp,value"];
      for (let i = 0; i < 300_000; i++) lines.push(`js/${protocol}/abort/s${i % 50},2026-11-30T10:00:00Z,${i}`);
      const bytes = Buffer.from(lines.join("\n") + "\n");
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const blob = new Blob([bytes]);
      const client = await connect(server.url, { protocol, name: `abort-${protocol}` });
      try {
        const controller = new AbortController();
        let uploadId = null;
        const aborted = await client.upload(blob, { name: "abort.csv", signal: controller.signal }, p => {
          uploadId = p.uploadId;
          if (p.sentBytes >= bytes.length / 5 && !controller.signal.aborted) controller.abort();
        }).then(() => null, error => error);
        assert.ok(aborted, "the upload was aborted before it completed");
        assert.equal(aborted.name, "AbortError");
        assert.ok(!(aborted instanceof SensorHubError), "an abort rejects with an AbortError, not a SensorHubError");
        let resumes = 0;
        const result = await within(client.upload(blob, { uploadId }, p => (resumes = p.resumes)), 40_000, "the resumed upload");
        assert.equal(result.complete, true);
        assert.equal(result.bytes, bytes.length);
        assert.equal(result.sha256, sha256);
        t.diagnostic(`the resume waited out ${resumes} refusal(s) of the aborted call's writer`);
      } finally {
        await client.stop();
      }
    });

    test("a call with a wrongly typed argument ends at once with kind \"server\"", async () => {
      const client = await connect(server.url, { protocol, name: `bind-${protocol}` });
      try {
        const started = Date.now();
        const error = await within(client.upload(new Blob(["a,b\n"]), { name: "x.csv", csv: { delimiter: 5 } }).then(() => null, e => e), 10_000, "the refused call");
        assert.ok(error instanceof SensorHubError, `a SensorHubError (${error})`);
        assert.equal(error.kind, "server", error.message);
        assert.equal(error.code, null);
        assert.match(error.message, /^Failed to invoke 'BeginUpload'/);
        assert.ok(Date.now() - started < 5_000, "ended at once, not retried");
        assert.equal(client.state, "connected");
      } finally {
        await client.stop();
      }
    });
  });
}
