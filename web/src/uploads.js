// Uploads: BeginUpload, then Upload fed by a Subject chunk by chunk, paced by WatchUpload so that no more than a few
// chunks wait in the tab's memory; resumes from GetUploadStatus after a drop; checks the server's SHA-256 against one
// computed here. Downloads collect the Download stream into a Blob.
import { signalR } from "./connection.js";
import { el, $ } from "./dom.js";
import { Codes, codeOf, textOf } from "./errors.js";
import { summaryRows } from "./summary.js";

const CHUNK = 64 * 1024;
const AHEAD = 4; // chunks sent but not yet durably written
const ATTEMPTS = 20;
// Answers after which the upload goes on from where the server stands: the dropped connection's stream still holds
// the upload's write slot (the server has not seen it end yet), or it moved the end meanwhile.
// backend_unavailable: the node cannot reach Redis for now; the upload goes on after a reconnect (perhaps elsewhere).
const RESUMABLE = new Set([Codes.uploadHasWriter, Codes.uploadOffsetMismatch, Codes.backendUnavailable]);

/**
 * Whether an upload resumes after `error`. An error without a code is a dropped connection (or a passing fault of the
 * server's): the bytes on disk stay, so it resumes. An error with any other code is a refusal, which the same call
 * would only get again.
 */
const resumable = error => { const code = codeOf(error); return code === null || RESUMABLE.has(code); };

const hex = buffer => [...new Uint8Array(buffer)].map(b => b.toString(16).padStart(2, "0")).join("");
const toBase64 = bytes => { let s = ""; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000)); return btoa(s); };
const fromBase64 = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));

function contentTypeOf(file) {
  if (/\.csv$/i.test(file.name)) return "text/csv";
  if (/\.(log|txt)$/i.test(file.name)) return "text/plain";
  return file.type || "application/octet-stream";
}

export class Uploads {
  constructor({ hub, subscriptions, root }) {
    this.hub = hub;
    this.subscriptions = subscriptions;
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

  show(received, total, text) {
    this.progress.max = total || 1;
    this.progress.value = received;
    const percent = total ? Math.floor((received / total) * 100) : 100;
    this.progress.dataset.percent = String(percent);
    this.label.textContent = text ?? `${received.toLocaleString()} of ${total.toLocaleString()} bytes (${percent}%)`;
  }

  /** Starts an upload from the page: a refusal (a viewer, a bad file, a limit) is shown once, not thrown. */
  start(file) {
    this.error.textContent = "";
    delete this.error.dataset.code;
    this.upload(file).catch(error => this.fail(error));
  }

  fail(error) {
    this.failures++;
    this.error.textContent = `upload failed: ${textOf(error)}`;
    this.error.dataset.code = codeOf(error) ?? "";
    this.label.textContent = "upload failed";
  }

  async upload(file) {
    this.result.replaceChildren();
    this.show(0, file.size, "hashing…");
    // Whole-file digest: fine for files that fit in memory; the server verifies the declared hash as well.
    const sha256 = hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    await this.hub.ready();
    const status = await this.hub.invoke("BeginUpload", { name: file.name, contentType: contentTypeOf(file), totalBytes: file.size, sha256 });
    const id = status.uploadId;
    this.root.dataset.uploadId = id;
    const result = await this.#sendResuming(file, id);
    this.show(Number(result.bytes), file.size);
    this.render(file, sha256, result);
    return result;
  }

  /** Sends the file, resuming from the server's receivedBytes after each resumable failure; a refusal ends it. */
  async #sendResuming(file, id) {
    let offset = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(file, id, offset);
      } catch (error) {
        if (!resumable(error)) throw error;
        if (codeOf(error) === Codes.backendUnavailable) this.hub.failOver(textOf(error));
        if (attempt === ATTEMPTS) throw new Error(`gave up after ${ATTEMPTS} attempts; the last: ${textOf(error)}`);
        this.resumes++;
        this.label.textContent = "connection lost: resuming…";
        await new Promise(resolve => setTimeout(resolve, Math.min(250 * attempt, 2000)));
        await this.hub.ready();
        const now = await this.#statusOf(id);
        if (now?.complete) return { uploadId: id, bytes: now.receivedBytes, sha256: now.sha256, complete: true };
        if (now) offset = Number(now.receivedBytes);
      }
    }
  }

  /** Where the upload stands, or null when the connection dropped again before the answer came. */
  async #statusOf(id) {
    try {
      return await this.hub.invoke("GetUploadStatus", id);
    } catch (error) {
      if (codeOf(error) === Codes.backendUnavailable) { this.hub.failOver(textOf(error)); return null; }
      if (codeOf(error) !== null) throw error;
      return null;
    }
  }

  async #send(file, id, offset) {
    let received = offset;
    let wake = null;
    const watcher = this.subscriptions.add(this, this.hub.stream("WatchUpload", id), {
      next: s => { received = Number(s.receivedBytes); this.show(received, file.size); wake?.(); },
      error: () => wake?.(),
      complete: () => wake?.(),
    });
    const subject = new signalR.Subject();
    const done = this.hub.invoke("Upload", id, offset, subject);
    let failed = null;
    done.catch(error => { failed = error; wake?.(); });
    try {
      for (let at = offset; at < file.size && !failed; at += CHUNK) {
        while (at - received > AHEAD * CHUNK && !failed) await new Promise(resolve => { wake = resolve; });
        if (failed) break;
        const bytes = new Uint8Array(await file.slice(at, Math.min(at + CHUNK, file.size)).arrayBuffer());
        // Sending on a dropped connection throws inside the client: stop here, `done` fails and the caller resumes.
        if (failed || !this.hub.isConnected) break;
        subject.next(this.hub.binary ? bytes : toBase64(bytes));
      }
      if (!failed && this.hub.isConnected) subject.complete();
      return await done;
    } finally {
      this.subscriptions.remove(this, watcher);
    }
  }

  render(file, sha256, result) {
    const match = result.sha256 === sha256;
    const rows = [
      ["upload id", result.uploadId], ["bytes", Number(result.bytes).toLocaleString()],
      ["SHA-256 (server)", result.sha256], ["SHA-256 (browser)", sha256], ["hashes", match ? "match" : "DIFFER"],
    ];
    rows.push(...summaryRows(result));
    const download = el("button", { type: "button", onclick: () => this.download(result.uploadId, file.name, Number(result.bytes), download) }, "Download");
    this.result.replaceChildren(
      el("dl", {}, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { field: k } }, String(v))])), download);
    this.result.dataset.sha256 = result.sha256 ?? "";
    this.result.dataset.match = String(match);
  }

  download(id, name, size, button) {
    const parts = [];
    button.disabled = true;
    this.subscriptions.add(this, this.hub.stream("Download", id, 0), {
      next: chunk => parts.push(typeof chunk === "string" ? fromBase64(chunk) : chunk),
      error: error => { button.disabled = false; this.label.textContent = `download failed: ${textOf(error)}`; },
      complete: () => {
        // A stopping server completes a download after the chunk in hand: short of the size, it is not the file.
        const received = parts.reduce((total, part) => total + part.byteLength, 0);
        if (received < size) {
          button.disabled = false;
          this.label.textContent = `download cut short at ${received.toLocaleString()} of ${size.toLocaleString()} bytes (the server stopped): try again`;
          return;
        }
        const link = el("a", { href: URL.createObjectURL(new Blob(parts)), download: name }, `Save ${name}`);
        button.replaceWith(link);
        link.focus();
      },
    });
  }
}
