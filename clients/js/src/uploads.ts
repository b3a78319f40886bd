import { Subject } from "@microsoft/signalr";
import type { ISubscription } from "@microsoft/signalr";
import type { IHasher } from "hash-wasm";
import { createSHA256 } from "hash-wasm";
import { SensorHubError, SensorHubErrorCodes, UploadVerificationError } from "./errors.js";
import type { Connection } from "./internal/connection.js";
import { abortError, sleep } from "./internal/connection.js";
import type { ResumeSpec } from "./internal/resumable.js";
import { fromWire, toBytes, toWireBytes } from "./internal/wire.js";
import { SensorHubMethods } from "./methods.js";
import type { UploadOptions, UploadProgress } from "./options.js";
import type { UploadResult, UploadStatus } from "./types.js";

/** The default chunk: 64 KiB. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/**
 * Chunks sent ahead of what the server has written, by default: 1 MiB in flight at most. Measured on loopback with
 * 64 KiB chunks over MessagePack, 8 ahead moved 21 MB/s and 32 ahead 40 MB/s; JSON (base64) is bound by its CPU
 * at about 7 MB/s either way.
 */
export const DEFAULT_CHUNKS_AHEAD = 16;
/**
 * How long a resumed upload (after a drop, or `upload(blob, { uploadId })`, or any first `Upload` meeting
 * `upload_has_writer`) waits out refusals that mean "not yet" (`upload_has_writer`, `upload_offset_mismatch`,
 * `server_busy`): the server notices a connection that vanished without a close within its client timeout (30 s by
 * default), and only then releases the dropped connection's writer. The .NET SDK's `UploadResumePatience`.
 */
export const UPLOAD_RESUME_PATIENCE_MS = 30_000;
const NOT_YET: ReadonlySet<string> = new Set([SensorHubErrorCodes.UploadHasWriter, SensorHubErrorCodes.UploadOffsetMismatch, SensorHubErrorCodes.ServerBusy]);

/**
 * The file's SHA-256, computed incrementally, each byte once, as the chunks are read (hash-wasm: the Web Crypto API
 * cannot hash incrementally). A chunk read again after a resume (the server had written less than was sent) is not
 * hashed again: the hasher's state is kept across the resume. Where the upload resumes one begun elsewhere (the bytes
 * before the server's offset were never read here), the prefix is hashed lazily from the Blob in the background, in
 * 1 MiB slices, and the chunks sent meanwhile are read from the Blob again by that catch-up: memory stays bounded.
 */
class HashCursor {
  private hashed = 0;
  private catchingUp: Promise<void> | null = null;

  private constructor(private readonly blob: Blob, private readonly hasher: IHasher) {}

  static async create(blob: Blob): Promise<HashCursor> {
    const hasher = await createSHA256();
    hasher.init();
    return new HashCursor(blob, hasher);
  }

  /** A chunk read at `at`: hashed when it is the next byte in order; a later one starts the catch-up. */
  offer(at: number, bytes: Uint8Array): void {
    if (this.catchingUp) return;
    if (at === this.hashed) {
      this.hasher.update(bytes);
      this.hashed += bytes.byteLength;
    } else if (at > this.hashed) {
      this.catchingUp = this.catchUp();
      this.catchingUp.catch(() => undefined);
    }
  }

  /** The whole Blob's hash, lowercase hex, once every byte is hashed. */
  async digest(): Promise<string> {
    if (this.hashed < this.blob.size) await (this.catchingUp ??= this.catchUp());
    return this.hasher.digest("hex");
  }

  private async catchUp(): Promise<void> {
    const slice = 1024 * 1024;
    while (this.hashed < this.blob.size) {
      const end = Math.min(this.hashed + slice, this.blob.size);
      this.hasher.update(new Uint8Array(await this.blob.slice(this.hashed, end).arrayBuffer()));
      this.hashed = end;
    }
  }
}

function contentTypeOf(blob: Blob, name: string): string {
  if (/\.csv$/i.test(name)) return "text/csv";
  if (/\.(log|txt)$/i.test(name)) return "text/plain";
  return blob.type || "application/octet-stream";
}

/** `SensorHubClient.upload`: see there. */
export async function sendUpload(connection: Connection, blob: Blob, options: UploadOptions, onProgress?: (progress: UploadProgress) => void): Promise<UploadResult> {
  if (!(blob instanceof Blob)) throw new TypeError("upload(blob): a Blob is required (a File in browsers; in Node, fs.openAsBlob(path)).");
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const ahead = Math.max(1, options.chunksAhead ?? DEFAULT_CHUNKS_AHEAD);
  if (!(chunkSize > 0)) throw new TypeError("options.chunkSize must be more than 0.");
  const signal = options.signal;
  const name = options.name ?? ((blob as File).name || "upload.bin");
  const total = blob.size;
  const hash = await HashCursor.create(blob);

  let uploadId: string;
  let offset = 0;
  let result: UploadResult | null = null;
  if (options.uploadId) {
    uploadId = options.uploadId;
    const status = await statusOf(connection, uploadId, signal);
    offset = status.receivedBytes;
    if (status.totalBytes !== null && status.totalBytes !== total) {
      throw new SensorHubError(`Upload '${uploadId}' was begun for ${status.totalBytes} bytes; this Blob has ${total}.`, { kind: "client" });
    }
    if (status.complete) result = completed(status);
  } else {
    const request = { name, contentType: options.contentType ?? contentTypeOf(blob, name), totalBytes: total, sha256: null, csv: options.csv ?? null };
    const begun = fromWire.uploadStatus(await connection.invoke<unknown>(SensorHubMethods.BeginUpload, [request], false, signal));
    uploadId = begun.uploadId;
  }

  let resumes = 0;
  let sent = offset;
  const report = (received: number) => {
    onProgress?.({ uploadId, receivedBytes: received, sentBytes: Math.max(sent, received), totalBytes: total, percent: total === 0 ? 100 : Math.min(100, (100 * received) / total), resumes });
  };
  report(offset);

  let failures = 0;
  let refusedSince: number | null = null;
  let leftGeneration: number | undefined;
  while (result === null) {
    if (signal?.aborted) throw abortError();
    await connection.ready(failures, signal, leftGeneration);
    leftGeneration = undefined;
    const generation = connection.generation;
    try {
      result = await sendOnce(connection, uploadId, blob, offset, { chunkSize, ahead, hash, signal, onSent: s => (sent = s), onReceived: report });
      break;
    } catch (raw) {
      if (signal?.aborted) throw abortError();
      const error = SensorHubError.from(raw);
      if (error.code === SensorHubErrorCodes.BackendUnavailable) {
        if (connection.leave(generation, error.message)) leftGeneration = generation;
      } else if (error.code !== null && NOT_YET.has(error.code) && (resumes > 0 || options.uploadId !== undefined || error.code === SensorHubErrorCodes.UploadHasWriter)) {
        // Also on the first attempt: an upload aborted here (or elsewhere) a moment ago keeps its writer on the server
        // until the server has read the end of that Upload call's stream, and may still write chunks it had buffered.
        refusedSince ??= Date.now();
        if (Date.now() - refusedSince > UPLOAD_RESUME_PATIENCE_MS) throw error;
        await sleep(Math.min(2_000, 250 * (failures + 1)), signal);
      } else if (error.kind !== "connection") {
        throw error;
      } else {
        refusedSince = null;
      }
      failures++;
      resumes++;
      // Where the server stands: also after a refusal, since it may have written chunks it had buffered.
      const status = await statusOf(connection, uploadId, signal);
      if (status.complete) result = completed(status);
      offset = status.receivedBytes;
      report(offset);
    }
  }
  const sha256 = await hash.digest();
  if (!result.complete) throw new SensorHubError(`Upload '${uploadId}' ended incomplete: the server holds ${result.bytes} of ${total} bytes.`, { kind: "client" });
  if (result.sha256 !== sha256) throw new UploadVerificationError(uploadId, sha256, result.sha256);
  report(result.bytes);
  return result;
}

async function statusOf(connection: Connection, uploadId: string, signal: AbortSignal | undefined): Promise<UploadStatus> {
  const status = fromWire.uploadStatus(await connection.invoke<unknown>(SensorHubMethods.GetUploadStatus, [uploadId], true, signal));
  if (status.error !== null) {
    throw new SensorHubError(`[${SensorHubErrorCodes.UploadFailed}] Upload '${uploadId}' failed on the server: ${status.error}`, {
      code: SensorHubErrorCodes.UploadFailed, kind: "refused", serverText: `Upload '${uploadId}' failed on the server: ${status.error}`,
    });
  }
  return status;
}

function completed(status: UploadStatus): UploadResult {
  return { uploadId: status.uploadId, bytes: status.receivedBytes, sha256: status.sha256, complete: true, log: null, csv: null };
}

/**
 * One `Upload` call from `offset`: chunks read lazily from the Blob and handed to SignalR's client-to-server stream
 * (a `Subject`, which has no backpressure of its own), never more than `ahead` chunks past what the server has
 * written, as its `WatchUpload` stream says. So at most `ahead` chunks (plus the socket's buffer) are in memory.
 */
async function sendOnce(
  connection: Connection, uploadId: string, blob: Blob, offset: number,
  o: { chunkSize: number; ahead: number; hash: HashCursor; signal: AbortSignal | undefined; onSent: (sent: number) => void; onReceived: (received: number) => void },
): Promise<UploadResult> {
  let received = offset;
  let watching = true;
  let failed: unknown = null;
  let wake: (() => void) | null = null;
  const nudge = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const watch: ISubscription<unknown> = connection.stream<unknown>(SensorHubMethods.WatchUpload, [uploadId]).subscribe({
    next: wire => {
      const status = fromWire.uploadStatus(wire);
      if (status.receivedBytes > received) received = status.receivedBytes;
      o.onReceived(received);
      nudge();
    },
    // Without the watch there is nothing to pace by: the Upload call's own end (or failure) follows soon.
    error: () => {
      watching = false;
      nudge();
    },
    complete: () => {
      watching = false;
      nudge();
    },
  });
  const subject = new Subject<unknown>();
  const done = connection.hub.invoke(SensorHubMethods.Upload, uploadId, offset, subject);
  done.catch(error => {
    failed = error;
    nudge();
  });
  const onAbort = () => {
    failed = abortError();
    nudge();
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (let at = offset; at < blob.size && failed === null; ) {
      while (watching && failed === null && at - received >= o.ahead * o.chunkSize) await new Promise<void>(resolve => (wake = resolve));
      if (failed !== null) break;
      const end = Math.min(at + o.chunkSize, blob.size);
      const bytes = new Uint8Array(await blob.slice(at, end).arrayBuffer());
      o.hash.offer(at, bytes);
      // Sending on a dropped connection throws inside SignalR: stop here; `done` fails and the caller resumes.
      if (failed !== null || !connection.isConnected) break;
      subject.next(toWireBytes(bytes, connection.binary));
      at = end;
      o.onSent(at);
    }
    if (failed === null && connection.isConnected) subject.complete();
    else if (connection.isConnected) subject.error("The upload was stopped by the client.");
    if (failed !== null && (failed as Error).name === "AbortError") throw failed;
    return fromWire.uploadResult(await done);
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    try {
      watch.dispose();
    } catch {
      // Already ended with its connection.
    }
  }
}

/** `SensorHubClient.download`: `Download(uploadId, offset)` resumed at the byte where it stood. */
export function downloadSpec(connection: Connection, uploadId: string, offset: number): ResumeSpec<unknown, Uint8Array> {
  let position = offset;
  let size: number | null = null;
  return {
    method: SensorHubMethods.Download,
    pausable: true,
    beforeAttempt: async (_reason, signal) => {
      // The size tells a finished download from one that a stopping server ended early.
      if (size === null) size = (await statusOf(connection, uploadId, signal)).receivedBytes;
    },
    args: () => [uploadId, position],
    accept: wire => {
      const bytes = toBytes(wire);
      position += bytes.byteLength;
      return bytes.byteLength > 0 ? [bytes] : [];
    },
    endIsFinal: () => size !== null && position >= size,
  };
}
