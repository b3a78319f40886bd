// Uploads: a picked or dropped file goes to the server through @sensorhub/client's upload, which reads it in 64 KiB
// chunks, paced by what the server has written, hashes it (SHA-256) as it reads, resumes after a drop from where the
// server stands and resolves only once the server's hash equals its own. So a file of any size never sits in the
// tab's memory (tests/browser/upload-heap.test.mjs). The page shows the progress, the result with what the server
// read in the file (summary.js), and offers the file back as a download.
import { UploadVerificationError } from "@sensorhub/client";
import { el, $ } from "./dom.js";
import { textOf } from "./connection.js";
import { summaryRows } from "./summary.js";

export class Uploads {
  constructor({ hub, root }) {
    this.hub = hub;
    this.client = hub.client;
    this.root = root;
    this.input = $("#upload-file", root);
    this.progress = $("#upload-progress", root);
    this.label = $("#upload-label", root);
    this.result = $("#upload-result", root);
    this.error = $("#upload-error", root);
    this.failures = 0;
    this.resumes = 0;
    this.input.addEventListener("change", () => this.input.files[0] && this.start(this.input.files[0]));
    const drop = $("#upload-drop", root);
    drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) this.start(e.dataTransfer.files[0]); });
  }

  /** The bar and its label: bytes the server has written of the file's, and `note` after them where given. */
  show(received, total, note = null) {
    this.progress.max = total || 1;
    this.progress.value = received;
    const percent = total ? Math.floor((received / total) * 100) : 100;
    this.progress.dataset.percent = String(percent);
    this.label.textContent = `${received.toLocaleString()} of ${total.toLocaleString()} bytes (${percent}%)${note ? `, ${note}` : ""}`;
  }

  /** Starts an upload from the page: a refusal (a viewer, a bad file, a limit) is shown once, not thrown. */
  start(file) {
    this.error.textContent = "";
    delete this.error.dataset.code;
    this.upload(file).catch(error => this.fail(error, file));
  }

  fail(error, file) {
    this.failures++;
    this.error.textContent = `upload failed: ${textOf(error)}`;
    this.error.dataset.code = error?.code ?? "";
    this.label.textContent = "upload failed";
    // Every byte arrived, but the server's hash is not the one computed here while reading: show both.
    if (error instanceof UploadVerificationError) {
      this.render(file, { uploadId: error.uploadId, bytes: file.size, sha256: error.actualSha256 }, error.expectedSha256);
    }
  }

  /** Uploads `file`; the content type follows from its name (.csv, .log, .txt), else its own type (the library's rule). */
  async upload(file) {
    this.result.replaceChildren();
    this.show(0, file.size);
    await this.hub.ready();
    let resumes = 0;
    let resumedAt = null;
    const result = await this.client.upload(file, { name: file.name }, progress => {
      this.root.dataset.uploadId = progress.uploadId;
      // `resumes` counts the library's resumptions after a drop (its report then says where the server stood); the
      // page's count (the tests read it) adds them up over uploads.
      if (progress.resumes > resumes) {
        this.resumes += progress.resumes - resumes;
        resumes = progress.resumes;
        resumedAt = progress.receivedBytes;
      }
      this.show(progress.receivedBytes, progress.totalBytes,
        resumedAt === null ? null : `resumed at ${resumedAt.toLocaleString()} after a dropped connection`);
    });
    this.show(Number(result.bytes), file.size);
    // The library resolves only when the server's SHA-256 equals the one it computed while reading the file.
    this.render(file, result, result.sha256);
    return result;
  }

  render(file, result, browserSha256) {
    const match = result.sha256 === browserSha256;
    const rows = [
      ["upload id", result.uploadId], ["bytes", Number(result.bytes).toLocaleString()],
      ["SHA-256 (server)", result.sha256], ["SHA-256 (browser)", browserSha256], ["hashes", match ? "match" : "DIFFER"],
    ];
    rows.push(...summaryRows(result));
    const download = el("button", { type: "button", onclick: () => this.download(result.uploadId, file.name, download) }, "Download");
    this.result.replaceChildren(
      el("dl", {}, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { field: k } }, String(v))])), download);
    this.result.dataset.sha256 = result.sha256 ?? "";
    this.result.dataset.match = String(match);
  }

  /** Gathers the upload's bytes (the library resumes a download cut by a drop at the byte where it stood) into a link. */
  async download(id, name, button) {
    button.disabled = true;
    try {
      const parts = [];
      for await (const chunk of this.client.download(id)) parts.push(chunk);
      const link = el("a", { href: URL.createObjectURL(new Blob(parts)), download: name }, `Save ${name}`);
      button.replaceWith(link);
      link.focus();
    } catch (error) {
      button.disabled = false;
      this.label.textContent = `download failed: ${textOf(error)}`;
    }
  }
}
