// Run by uploads.test.mjs in a child Node with a small heap: uploads a file-backed Blob (fs.openAsBlob: slices are
// read from disk lazily), drops the transport once mid-way, and prints one JSON line with the result and what the
// upload added to the memory JavaScript holds (heap + ArrayBuffers, Buffers included), sampled every 200 ms after a
// full collection: its median and 90th percentile. Node frees dead ArrayBuffers' memory late, so single samples
// spike (20-30 MiB, whatever the file's size, even for plain FileHandle reads); a file held whole would be there all
// along. Mode "resume": aborts the first upload a third of the way, then resumes it by its id (the prefix's hash is
// computed from the Blob, lazily).
import { openAsBlob } from "node:fs";
import { SensorHubClient } from "../dist/index.js";

const [url, protocol, file, mode] = process.argv.slice(2);
const token = async () => {
  const response = await fetch(`${url}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "uploader", roles: ["operator"] }) });
  return (await response.json()).accessToken;
};
const samples = [];
let baseline = 0;
let sampling = false;
const sampler = setInterval(() => {
  if (!sampling) return;
  globalThis.gc?.();
  const m = process.memoryUsage();
  samples.push(m.heapUsed + m.arrayBuffers - baseline);
}, 200);
const quantile = q => { const sorted = [...samples].sort((a, b) => a - b); return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0; };
const client = new SensorHubClient({ url, protocol, accessTokenFactory: token, reconnectDelays: [0, 100, 250] });
await client.start();
const blob = await openAsBlob(file);
// What the process holds before the upload: the client, SignalR, hash-wasm. The upload may add only a bounded amount.
globalThis.gc?.();
const baselineUsage = process.memoryUsage();
baseline = baselineUsage.heapUsed + baselineUsage.arrayBuffers;
sampling = true;
let dropped = false;
const percents = [];
let resumes = 0;
try {
  let result;
  if (mode === "resume") {
    const abort = new AbortController();
    let uploadId = null;
    const first = client.upload(blob, { name: "capture.bin", signal: abort.signal }, p => {
      uploadId = p.uploadId;
      if (p.receivedBytes > blob.size / 3) abort.abort();
    });
    const aborted = await first.then(() => "completed", error => error.name);
    const status = await client.getUploadStatus(uploadId);
    result = await client.upload(blob, { uploadId }, p => { percents.push(p.percent); });
    result = { ...result, aborted, statusAtAbort: status.receivedBytes };
  } else {
    result = await client.upload(blob, { name: "capture.bin" }, p => {
      percents.push(p.percent);
      if (!dropped && p.receivedBytes > blob.size * 0.4) {
        dropped = true;
        void client.simulateDrop("the test drops the transport mid-upload");
      }
      resumes = p.resumes;
    });
  }
  sampling = false;
  console.log(JSON.stringify({ ok: true, result, dropped, baseline, median: quantile(0.5), p90: quantile(0.9), samples: samples.length, progressReports: percents.length, resumes, lastPercent: percents.at(-1) }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), code: error?.code ?? null }));
} finally {
  clearInterval(sampler);
  await client.stop();
}
