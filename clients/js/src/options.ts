import type { ILogger, LogLevel } from "@microsoft/signalr";
import type { SequenceGap } from "./gaps.js";
import type { StreamCallbacks } from "./stream.js";
import type { CsvOptions, Reading, SessionEvent, SubscribeManyOptions as WireSubscribeManyOptions, SubscribeOptions as WireSubscribeOptions, UploadStatus } from "./types.js";

/** How a `SensorHubClient` connects. Read once, when the client is built. */
export interface SensorHubClientOptions {
  /**
   * The server's base address, such as `http://localhost:5000` (the hub is at `/hubs/sensors` under it; a path
   * prefix such as a reverse proxy's is kept). In a browser a relative one works too (`""` or `"/"`: the page's own
   * server). Required unless `urls` names at least one.
   */
  url?: string;
  /**
   * More servers (the nodes of one cluster, each a base address as `url`) to fail over between: `url` first, then
   * these in order, each once. The client is on one at a time; when a connection to it cannot be made or remade, the
   * next attempt goes to the next (after the last, the first again); a server that answers `backend_unavailable` is
   * left for the next at once. Streams resume on whichever server the client reaches. Default none.
   */
  urls?: string[];
  /** The hub protocol: `"msgpack"` (the default: compact, binary chunks as they are) or `"json"`. */
  protocol?: "msgpack" | "json";
  /**
   * Gives the bearer token for each connection attempt (the start and every reconnection, so it can hand out a
   * fresh one) and for `getStats()`. `null`, `undefined` or `""`: no token (a guest, where the server allows it).
   */
  accessTokenFactory?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * The waits in milliseconds between reconnection attempts after a drop; the last repeats for as long as the client
   * runs (it never gives up). Default `[0, 500, 1000, 2000, 5000]`.
   */
  reconnectDelays?: number[];
  /**
   * How long a resuming subscription keeps asking for a sensor the server answers `unknown_sensor` for (after a
   * server restart a sensor is unknown until its device publishes again), in milliseconds. Default 30,000; a
   * negative number: for ever. A first subscription to an unknown sensor fails at once.
   */
  unknownSensorPatienceMs?: number;
  /** SignalR's logger, or the least level it logs at. Default: no logging. */
  logger?: ILogger | LogLevel;
  /**
   * Whether a `backend_unavailable` answer (the node lost its Redis) drops the connection so that the reconnection
   * lands elsewhere, also with one address: set it where that address is a load balancer in front of several nodes
   * (a page served by the cluster, whose `url` is its own origin). Once however many streams answer it at once; when
   * it repeats within 30 s the drop waits 250 ms, doubling up to 5 s. Streams and idempotent calls resume on the next
   * connection either way. Default: `true` with several servers (the next one is dialled), `false` with one (the
   * same node serves again once its Redis is back; streams resume on the same connection).
   */
  leaveOnBackendUnavailable?: boolean;
}

/** Why a stream was opened again, and from where; passed to `onResume`. */
export interface ResumeInfo {
  /**
   * `connectionLost`: a drop or a failover; `endedByServer`: the server completed the stream (it is stopping);
   * `interrupted`: `backend_unavailable` (or a session's `fell_behind`); `refused`: a retry after a refusal that
   * means "not yet" (`unknown_sensor` after a restart); `paused`: the consumer's buffer had filled.
   */
  reason: "connectionLost" | "endedByServer" | "interrupted" | "refused" | "paused";
  /** `subscribe`: the `fromSequence` this attempt asks for (`null`: live). */
  fromSequence?: number | null;
  /** `subscribeMany`: the `fromSequences` this attempt asks for (`null`: every sensor live). */
  fromSequences?: Record<string, number> | null;
}

/** `subscribe`'s options: the server's (`fromSequence`, `maxRate`) and the client's (callbacks, buffer). */
export interface SubscribeOptions extends WireSubscribeOptions, StreamCallbacks {
  /** Each reading, in order, once. With it the subscription is fed, not iterated. */
  onReading?: (reading: Reading) => void;
  /** Each span of readings that will never be delivered, before the reading after it. */
  onGap?: (gap: SequenceGap) => void;
  /** Each time the stream is opened again (not the first time), with why and the `fromSequence` it asks for. */
  onResume?: (info: ResumeInfo) => void;
  /** The iterator's buffer, in readings (see `SensorHubStream`). Default 10,000. */
  bufferSize?: number;
}

/** `subscribeMany`'s options. */
export interface SubscribeManyOptions extends WireSubscribeManyOptions, StreamCallbacks {
  /** Each reading (each names its sensor), per sensor in order, once. With it the subscription is fed, not iterated. */
  onReading?: (reading: Reading) => void;
  /** Each span of one sensor's readings that will never be delivered, before that sensor's next reading. */
  onGap?: (gap: SequenceGap) => void;
  /** Each time the stream is opened again (not the first time), with why and the `fromSequences` it asks for. */
  onResume?: (info: ResumeInfo) => void;
  /** The iterator's buffer, in readings. Default 10,000. */
  bufferSize?: number;
}

/** `joinSession`'s options. */
export interface JoinSessionOptions extends StreamCallbacks {
  /** Each event; a rejoin after a drop starts with a fresh `snapshot`. With it the join is fed, not iterated. */
  onEvent?: (event: SessionEvent) => void;
  /** Each time the session is joined again (not the first time), with why. */
  onResume?: (info: ResumeInfo) => void;
  /** The iterator's buffer, in events. Default 10,000. */
  bufferSize?: number;
}

/** `watchUpload`'s options. */
export interface WatchUploadOptions extends StreamCallbacks {
  /** Each status. With it the watch is fed, not iterated. */
  onStatus?: (status: UploadStatus) => void;
}

/** `download`'s options. */
export interface DownloadOptions extends StreamCallbacks {
  /** Where to start, in bytes. Default 0. */
  offset?: number;
  /** The iterator's buffer, in chunks (64 KiB each). Default 64 (4 MiB). */
  bufferSize?: number;
}

/** `upload`'s options. */
export interface UploadOptions {
  /** The file's name (no path separators, no `..`). Default: the `File`'s name, else `"upload.bin"`. */
  name?: string;
  /**
   * The media type: `text/plain` is processed as a log, `text/csv` as readings. Default: the Blob's `type`, else
   * from the name's extension (`.csv` → `text/csv`, `.log`/`.txt` → `text/plain`), else `application/octet-stream`.
   */
  contentType?: string;
  /** Resume an upload begun earlier (on this page or another) instead of beginning one: its id. */
  uploadId?: string;
  /** How the server reads a CSV. */
  csv?: CsvOptions;
  /**
   * Stops the upload (the server keeps what it received; resume it later with `uploadId`, at once if you like). It rejects
   * with an `Error` named `"AbortError"`, not a `SensorHubError`.
   */
  signal?: AbortSignal;
  /** Bytes per chunk. Default 64 KiB; at most the server's `MaxChunkBytes` (1 MiB by default). */
  chunkSize?: number;
  /** Chunks sent ahead of what the server has written (WatchUpload's `receivedBytes`). Default 16 (1 MiB of 64 KiB chunks). */
  chunksAhead?: number;
}

/** How far an upload has come; passed to `upload`'s `onProgress`. */
export interface UploadProgress {
  uploadId: string;
  /** Bytes the server has written (WatchUpload's `receivedBytes`): steps back to it after a drop, never past it. */
  receivedBytes: number;
  /** Bytes handed to the connection. */
  sentBytes: number;
  totalBytes: number;
  /** 0 to 100, of `receivedBytes`. */
  percent: number;
  /** How many times the upload went on after a drop or a "not yet" refusal waited out (`upload_has_writer` after an abort). */
  resumes: number;
}
