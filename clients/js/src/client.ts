import { Subject } from "@microsoft/signalr";
import { SensorHubError } from "./errors.js";
import type { SequenceGap } from "./gaps.js";
import { Connection } from "./internal/connection.js";
import type { ResumeSpec } from "./internal/resumable.js";
import type { ConnectionState, StateChange } from "./internal/connection.js";
import { ManySequenceTracker, SequenceTracker } from "./internal/trackers.js";
import { fromWire } from "./internal/wire.js";
import { SensorHubMethods, SensorHubRoutes } from "./methods.js";
import type { DownloadOptions, JoinSessionOptions, SensorHubClientOptions, SubscribeManyOptions, SubscribeOptions, UploadOptions, UploadProgress, WatchUploadOptions } from "./options.js";
import { parsePattern } from "./pattern.js";
import { SensorHubStream } from "./stream.js";
import type {
  AnnotationInput, CreateSessionRequest, PublishResult, Reading, ReadingInput, SensorInfo, SensorPage, SensorQuery, ServerStats,
  SessionEvent, SessionInfo, UploadResult, UploadStatus,
} from "./types.js";
import { downloadSpec, sendUpload } from "./uploads.js";

/** The events of a `SensorHubClient`. */
export interface SensorHubClientEvents {
  /** The connection's state changed: `connecting`, `connected`, `reconnecting`, `disconnected`. */
  state: (change: StateChange) => void;
  /** A subscription found readings it will never deliver (after its own `onGap`). */
  gap: (gap: SequenceGap) => void;
}

/**
 * A connection to a SensorHub server, with typed calls whose streams outlive dropped connections: subscriptions and
 * session joins resume, uploads and downloads go on where the server stands.
 *
 * Build it, `start()` it once, `stop()` it when done. Any number of streams, uploads and calls may run at once over
 * its one connection. When the connection drops it reconnects by itself, with back-off and then for ever
 * (`reconnectDelays`), to the next server where it has several; calls made meanwhile wait for it. Every error the
 * server answers with is a `SensorHubError` whose `code` tells a refusal's reason.
 *
 * @example
 * const client = new SensorHubClient({ url: "http://localhost:5000" });
 * await client.start();
 * for await (const reading of client.subscribe("plant-1/line-1/temperature", { onGap: g => console.warn(g) }))
 *   console.log(reading.sequence, reading.value);
 */
export class SensorHubClient {
  private readonly connection: Connection;
  private readonly listeners: { [K in keyof SensorHubClientEvents]: Set<SensorHubClientEvents[K]> } = { state: new Set(), gap: new Set() };
  private readonly unknownSensorPatienceMs: number;
  // The streams open now: stop() closes them, as close() would, rather than let them fail on a stopped client.
  private readonly streams = new Set<{ close(): void }>();

  constructor(options: SensorHubClientOptions) {
    if (!options || typeof options !== "object") throw new TypeError("new SensorHubClient(options): options are required, with url at least.");
    const urls = [...(options.url !== undefined && options.url !== null ? [options.url] : []), ...(options.urls ?? [])]
      .filter((url, i, all) => all.indexOf(url) === i);
    if (urls.length === 0) throw new TypeError("options.url (or options.urls) is required: a server's base address, such as http://localhost:5000.");
    const protocol = options.protocol ?? "msgpack";
    if (protocol !== "msgpack" && protocol !== "json") throw new TypeError(`options.protocol must be "msgpack" or "json"; it was ${JSON.stringify(protocol)}.`);
    const reconnectDelays = options.reconnectDelays ?? [0, 500, 1_000, 2_000, 5_000];
    if (reconnectDelays.length === 0 || reconnectDelays.some(d => !(d >= 0))) throw new TypeError("options.reconnectDelays must hold at least one wait of 0 ms or more.");
    this.unknownSensorPatienceMs = options.unknownSensorPatienceMs ?? 30_000;
    this.connection = new Connection({
      urls, protocol, accessTokenFactory: options.accessTokenFactory, reconnectDelays, logger: options.logger,
      leaveOnBackendUnavailable: options.leaveOnBackendUnavailable ?? urls.length > 1,
    });
    this.connection.onState(change => this.emit("state", change));
  }

  /** The connection's state now. */
  get state(): ConnectionState {
    return this.connection.state;
  }

  /** The protocol spoken. */
  get protocol(): "msgpack" | "json" {
    return this.connection.binary ? "msgpack" : "json";
  }

  /** The base address of the server the client is on (or tries next). */
  get url(): string {
    return this.connection.url;
  }

  /** Every server's base address, in the order they are tried. */
  get urls(): readonly string[] {
    return this.connection.urls;
  }

  /** Listens to an event; returns the function that stops listening. */
  on<K extends keyof SensorHubClientEvents>(event: K, listener: SensorHubClientEvents[K]): () => void {
    const set = this.listeners[event] as Set<SensorHubClientEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Connects, to each server in turn until one answers. Rejects (a `SensorHubError` of kind `connection`) when none
   * does: a start is not retried. Once connected, drops are retried by themselves, for ever.
   */
  start(): Promise<void> {
    return this.connection.start();
  }

  /**
   * Closes the connection. Every open stream is closed first, as its `close()` does (`onClose(null)`, the iterator
   * done); calls in flight and uploads reject (the server keeps an upload's bytes: resume it with `uploadId`).
   * The client may be started again.
   */
  stop(): Promise<void> {
    for (const stream of [...this.streams]) stream.close();
    return this.connection.stop();
  }

  /**
   * Drops the transport as a network failure would: the client reconnects and every stream resumes. For tests and
   * demonstrations.
   */
  simulateDrop(reason?: string): Promise<void> {
    return this.connection.drop(reason);
  }

  // ---- Feeds ----

  /**
   * The readings of one sensor, in sequence order, each once, across dropped connections, server restarts and
   * failovers: after a drop the client reconnects, subscribes again from the last sequence it delivered plus one and
   * leaves out what it already delivered. Readings that can no longer be delivered are reported through `onGap` (and
   * the client's `gap` event) before the reading after them. `for await` it, or give `onReading`.
   *
   * A live subscription (no `fromSequence`) that has delivered nothing yet resumes live. After a server restart the
   * sensor is unknown until its device publishes again: a resuming subscription waits `unknown_sensor` out for
   * `unknownSensorPatienceMs`. With `maxRate` it resumes live (a replay would come unpaced) and reports no jumps.
   *
   * Errors (through `onError`, or thrown by the iterator): `unknown_sensor` at once for a sensor no one has published
   * to, `not_allowed`, `invalid_argument`, `too_many_streams`; never `backend_unavailable` (resumed like a drop).
   */
  subscribe(sensorId: string, options: SubscribeOptions = {}): SensorHubStream<Reading> {
    const tracker = new SequenceTracker(sensorId, pick(options), gap => this.reportGap(gap, options.onGap));
    return this.open<Reading>({
      method: SensorHubMethods.Subscribe,
      pausable: true,
      beforeAttempt: reason => {
        if (reason?.cause === "endedByServer" || reason?.code === "unknown_sensor") tracker.serverMayHaveRestarted();
      },
      args: () => [sensorId, tracker.nextOptions()],
      onReopen: (args, reason) => options.onResume?.({ reason, fromSequence: (args[1] as { fromSequence: number | null }).fromSequence }),
      accept: (wire: unknown) => {
        const reading = fromWire.reading(wire);
        if (!tracker.accept(reading)) return [];
        const unclassified = tracker.takeUnclassifiedGap();
        return unclassified ? this.classifyGap(unclassified, options.onGap).then(() => [reading]) : [reading];
      },
      patienceFor: code => (code === "unknown_sensor" ? this.unknownSensorPatienceMs : null),
    }, { ...options, onItem: options.onReading });
  }

  /**
   * The readings of every sensor whose id matches `pattern` (MQTT's syntax over the `/` levels: `plant-1/+/temp`,
   * `plant-1/#`, `#`), sensors that appear later included, each reading naming its sensor: per sensor in order, each
   * once, across drops. After a drop it subscribes again with each sensor's last delivered sequence plus one
   * (`fromSequences`), and reports gaps per sensor. An unpaced stream lists the matching sensors before each attempt
   * (`ListSensors` by the pattern's literal prefix), so that a sensor silent or new during a drop resumes from where
   * it stood; a paced one (`maxRate`) resumes live. A malformed pattern is refused by the server (`invalid_argument`,
   * its text naming the problem), through `onError` or the iterator.
   */
  subscribeMany(pattern: string, options: SubscribeManyOptions = {}): SensorHubStream<Reading> {
    const parsed = parsePattern(pattern).pattern ?? null;
    const positions = new ManySequenceTracker(parsed, { maxRate: options.maxRate ?? null, fromSequences: options.fromSequences ?? null }, gap => this.reportGap(gap, options.onGap));
    return this.open<Reading>({
      method: SensorHubMethods.SubscribeMany,
      pausable: true,
      beforeAttempt: async (reason, signal) => {
        if (reason?.cause === "endedByServer") positions.serverMayHaveRestarted();
        if (parsed && positions.wantsListing) await this.listMatching(parsed.prefix, positions, signal);
      },
      args: () => [pattern, positions.nextOptions()],
      onReopen: (args, reason) => options.onResume?.({ reason, fromSequences: (args[1] as { fromSequences: Record<string, number> | null }).fromSequences }),
      accept: async (wire: unknown) => {
        const batch = fromWire.readings(wire);
        const kept: Reading[] = [];
        const unclassified: SequenceGap[] = [];
        for (const reading of batch) {
          const result = positions.accept(reading);
          if (!result.keep) continue;
          kept.push(reading);
          if (result.unclassified) unclassified.push(result.unclassified);
        }
        for (const gap of unclassified) await this.classifyGap(gap, options.onGap);
        return kept;
      },
    }, { ...options, onItem: options.onReading });
  }

  /** One page of the sensors the caller may read, ordered by id (`query` null: the first 100). Retried after a drop. */
  async listSensors(query: SensorQuery | null = null): Promise<SensorPage> {
    const page = await this.connection.invoke<unknown>(SensorHubMethods.ListSensors, [query ? sensorQuery(query) : null], true);
    return fromWire.sensorPage(page);
  }

  /** Every sensor the caller may read whose id starts with `prefix` (all: ""), page by page, 1,000 at a time. */
  async listAllSensors(prefix = ""): Promise<SensorInfo[]> {
    const sensors: SensorInfo[] = [];
    let after: string | null = null;
    do {
      const page: SensorPage = await this.listSensors({ prefix, after, limit: 1_000 });
      sensors.push(...page.sensors);
      after = page.sensors.length > 0 ? page.next : null;
    } while (after !== null);
    return sensors;
  }

  /**
   * Publishes readings as one client-to-server stream and resolves to what the server accepted and rejected once
   * `readings` ends. Not resumed after a drop (a retry would publish again what the server kept): the call fails.
   */
  publish(readings: Iterable<ReadingInput> | AsyncIterable<ReadingInput>): Promise<PublishResult> {
    return this.publishStream(SensorHubMethods.Publish, readings, r => toWireReadingInput(r));
  }

  /** `publish` with several readings in each message (at most 1,000 a batch), for gateways. */
  publishBatches(batches: Iterable<ReadingInput[]> | AsyncIterable<ReadingInput[]>): Promise<PublishResult> {
    return this.publishStream(SensorHubMethods.PublishBatches, batches, b => b.map(toWireReadingInput));
  }

  // ---- Uploads ----

  /**
   * Uploads a `Blob` (a `File` in browsers; in Node `fs.openAsBlob(path)`) in 64 KiB chunks read lazily, never more
   * than a few chunks ahead of what the server has written (`WatchUpload`), computing its SHA-256 incrementally as
   * the chunks are read. After a drop it asks the server how much it holds (`GetUploadStatus`) and goes on from
   * there. Resolves to the server's `UploadResult` once the server's hash equals the client's; rejects with an
   * `UploadVerificationError` where they differ, or a `SensorHubError` for a refusal.
   *
   * @param onProgress told after each status the server sends, in order.
   */
  upload(blob: Blob, options: UploadOptions = {}, onProgress?: (progress: UploadProgress) => void): Promise<UploadResult> {
    return sendUpload(this.connection, blob, options, onProgress);
  }

  /**
   * A complete upload's bytes as chunks (`Uint8Array`, 64 KiB each but the last), from `options.offset`; after a drop
   * (or a stopping server that ended it early) it goes on at the byte where it stood.
   */
  download(uploadId: string, options: DownloadOptions = {}): SensorHubStream<Uint8Array> {
    return this.open<Uint8Array>(downloadSpec(this.connection, uploadId, options.offset ?? 0), { ...options, bufferSize: options.bufferSize ?? 64 });
  }

  /** Where an upload stands: `receivedBytes` is the offset to resume at. Retried after a drop. */
  async getUploadStatus(uploadId: string): Promise<UploadStatus> {
    return fromWire.uploadStatus(await this.connection.invoke<unknown>(SensorHubMethods.GetUploadStatus, [uploadId], true));
  }

  /** The caller's uploads (an admin's: all), oldest first. Retried after a drop. */
  async listUploads(): Promise<UploadStatus[]> {
    const list = await this.connection.invoke<unknown[]>(SensorHubMethods.ListUploads, [], true);
    return (list ?? []).map(fromWire.uploadStatus);
  }

  /** An upload's status now and each time it changes, until it completes or fails; resumed after a drop. */
  watchUpload(uploadId: string, options: WatchUploadOptions = {}): SensorHubStream<UploadStatus> {
    return this.open<UploadStatus>({
      method: SensorHubMethods.WatchUpload,
      pausable: false,
      args: () => [uploadId],
      accept: (wire: unknown) => [fromWire.uploadStatus(wire)],
      isLast: status => status.complete || status.error !== null,
    }, { ...options, onItem: options.onStatus });
  }

  // ---- Sessions ----

  /** Opens a session owned by the caller's token subject (operator or admin). Not retried after a drop. */
  async createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    const wire = { title: request.title, sensorIds: request.sensorIds, private: request.private ?? false, invited: request.invited ?? null };
    return fromWire.sessionInfo(await this.connection.invoke<unknown>(SensorHubMethods.CreateSession, [wire], false));
  }

  /**
   * Joins a session: first a `snapshot`, then its events as they happen; present until the stream ends. It completes
   * after `ended`. After a drop (or `fell_behind`, or a full buffer) it joins again and passes on the fresh snapshot
   * the rejoin begins with. `unknown_session` (ended, gone after a restart, or no longer visible) ends it.
   */
  joinSession(sessionId: string, options: JoinSessionOptions = {}): SensorHubStream<SessionEvent> {
    return this.open<SessionEvent>({
      method: SensorHubMethods.JoinSession,
      pausable: true,
      args: () => [sessionId],
      onReopen: (_args, reason) => options.onResume?.({ reason }),
      accept: (wire: unknown) => [fromWire.sessionEvent(wire)],
      isLast: event => event.kind === "ended",
      resumesAfter: code => code === "fell_behind",
    }, { ...options, onItem: options.onEvent });
  }

  /** Adds an annotation everyone in the session sees at once (operator or admin). */
  async annotate(sessionId: string, input: AnnotationInput): Promise<void> {
    const wire = { text: input.text, sensorId: input.sensorId ?? null, sequence: input.sequence ?? null };
    await this.connection.invoke<void>(SensorHubMethods.Annotate, [sessionId, wire], false);
  }

  /** Replaces a session's sensors (its owner or an admin); participants get `sensorsChanged`. */
  async setSessionSensors(sessionId: string, sensorIds: string[]): Promise<void> {
    await this.connection.invoke<void>(SensorHubMethods.SetSessionSensors, [sessionId, sensorIds], false);
  }

  /** Ends a session (its owner or an admin): every participant gets `ended`. */
  async endSession(sessionId: string): Promise<void> {
    await this.connection.invoke<void>(SensorHubMethods.EndSession, [sessionId], false);
  }

  /** The open sessions the caller may see, by title. Retried after a drop. */
  async listSessions(): Promise<SessionInfo[]> {
    const list = await this.connection.invoke<unknown[]>(SensorHubMethods.ListSessions, [], true);
    return (list ?? []).map(fromWire.sessionInfo);
  }

  // ---- HTTP ----

  /** `GET /api/stats` on the server the client is on, with the client's token. Rejects on a status other than 200. */
  async getStats(): Promise<ServerStats> {
    const token = await this.connection.token();
    const response = await fetch(this.connection.url.replace(/\/+$/, "") + SensorHubRoutes.Stats, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: "no-store",
    });
    if (!response.ok) throw new SensorHubError(`GET ${SensorHubRoutes.Stats} answered ${response.status}.`, { kind: "server" });
    return (await response.json()) as ServerStats;
  }

  // ---- Internals ----

  private open<T>(spec: ResumeSpec<unknown, T>, options: ConstructorParameters<typeof SensorHubStream<T>>[2]): SensorHubStream<T> {
    const stream = new SensorHubStream<T>(this.connection, spec, options, finished => this.streams.delete(finished));
    if (!stream.closed) this.streams.add(stream);
    return stream;
  }

  private async publishStream<TIn, TWire>(method: string, items: Iterable<TIn> | AsyncIterable<TIn>, map: (item: TIn) => TWire): Promise<PublishResult> {
    await this.connection.ready(0);
    const subject = new Subject<TWire>();
    const result = this.connection.invoke<unknown>(method, [subject], false);
    let failed = false;
    result.catch(() => {
      failed = true;
    });
    try {
      for await (const item of items as AsyncIterable<TIn>) {
        if (failed) break;
        subject.next(map(item));
      }
      if (!failed) subject.complete();
    } catch (error) {
      subject.error(String((error as Error)?.message ?? error));
      throw error;
    }
    return fromWire.publishResult(await result);
  }

  /** Lists the sensors under `prefix` into a subscribeMany's positions; a refusal leaves the listing incomplete. */
  private async listMatching(prefix: string, positions: ManySequenceTracker, signal: AbortSignal): Promise<void> {
    positions.beginListing();
    let complete = false;
    try {
      let after: string | null = null;
      for (;;) {
        if (signal.aborted) return;
        const page: SensorPage = fromWire.sensorPage(await this.connection.invoke<unknown>(SensorHubMethods.ListSensors, [{ prefix, after, limit: 1_000 }], true, signal));
        let goOn = true;
        for (const sensor of page.sensors) if (!(goOn = positions.listed(sensor))) break;
        if (!goOn) break;
        after = page.sensors.length > 0 ? page.next : null;
        if (after === null) {
          complete = true;
          break;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof SensorHubError)) throw error;
    } finally {
      positions.endListing(complete);
    }
  }

  /**
   * Reports a jump at a seam that nothing said was a restart: a gap that begins below the sensor's `firstSequence`
   * spans two numberings (a restart without ending the stream: a crash), else history lost it (exact). Where the
   * question fails the cause is `unknownJump`.
   */
  private async classifyGap(gap: SequenceGap, onGap: ((gap: SequenceGap) => void) | undefined): Promise<void> {
    let cause: SequenceGap["cause"] = "unknownJump";
    try {
      const page = await this.listSensors({ prefix: gap.sensorId, limit: 1 });
      const sensor = page.sensors.find(s => s.id === gap.sensorId);
      cause = sensor && sensor.firstSequence > gap.fromSequence ? "serverRestart" : sensor ? "historyExpired" : "unknownJump";
    } catch {
      // Reported as unknownJump below.
    }
    const exact = cause === "historyExpired";
    this.reportGap({ ...gap, cause, count: exact ? gap.toSequence - gap.fromSequence + 1 : null }, onGap);
  }

  private reportGap(gap: SequenceGap, onGap: ((gap: SequenceGap) => void) | undefined): void {
    onGap?.(gap);
    this.emit("gap", gap);
  }

  private emit<K extends keyof SensorHubClientEvents>(event: K, ...args: Parameters<SensorHubClientEvents[K]>): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        (listener as (...a: Parameters<SensorHubClientEvents[K]>) => void)(...args);
      } catch {
        // A listener's bug must not break the connection or a stream.
      }
    }
  }
}

function pick(options: SubscribeOptions): { fromSequence: number | null; maxRate: number | null } {
  return { fromSequence: options.fromSequence ?? null, maxRate: options.maxRate ?? null };
}

function sensorQuery(query: SensorQuery): SensorQuery {
  return { prefix: query.prefix ?? null, after: query.after ?? null, limit: query.limit ?? null };
}

function toWireReadingInput(reading: ReadingInput): unknown {
  return { sensorId: reading.sensorId, value: reading.value, timestamp: reading.timestamp ?? null };
}

