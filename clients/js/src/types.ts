// The contract's DTOs (docs/contract.md, SensorHub.Contracts), with the same camelCase field names under both
// protocols. The .NET contract test checks every `interface X { field… }` here against the [Key] names of the record
// of the same name, both ways: keep one field per line.
//
// Numbers: a `long` is a JavaScript number (sequences stay below 2^53, the contract says so). Times: a `Date` on both
// protocols (MessagePack sends its timestamp type, JSON an ISO 8601 string: the client turns both into a Date), so a
// page sees the same shapes whichever protocol it speaks. Optional fields the server sends as null are `null`.

/** One reading of one sensor. */
export interface Reading {
  sensorId: string;
  /** Per sensor, the previous reading's plus one; never reused, also across server restarts. */
  sequence: number;
  /** When it was measured, UTC. */
  timestamp: Date;
  value: number;
}

/** A reading to publish. */
export interface ReadingInput {
  sensorId: string;
  value: number;
  /** `null` or left out: the server's clock. At most an hour ahead of it. */
  timestamp?: Date | null;
}

/** Where a `Subscribe` starts and how fast it goes. */
export interface SubscribeOptions {
  /** Replay from this sequence (what history still holds), then live; `null`: live only. 0 or more. */
  fromSequence?: number | null;
  /** At most this many live readings a second (0.001 to 1,000,000), each the newest at its moment; `null`: all. */
  maxRate?: number | null;
}

/** How a `SubscribeMany` goes. */
export interface SubscribeManyOptions {
  /** Per sensor, as `SubscribeOptions.maxRate`. */
  maxRate?: number | null;
  /** Sensors to start from a sequence (replay, then live): at most 10,000 entries, each 0 or more. */
  fromSequences?: Record<string, number> | null;
}

/** A sensor, with its newest reading. */
export interface SensorInfo {
  id: string;
  name: string;
  unit: string | null;
  kind: string;
  /** The first sequence of the sensor's numbering on this server; a lower one came from before a restart. */
  firstSequence: number;
  /** 0 before the first reading. */
  lastSequence: number;
  lastValue: number | null;
  lastTimestamp: Date | null;
}

/** Which sensors `listSensors` answers. */
export interface SensorQuery {
  /** Ids that start with it; `null` or empty: all. */
  prefix?: string | null;
  /** Ids after this one: the `next` of the page before. */
  after?: string | null;
  /** 1 to 1,000; `null`: 100. */
  limit?: number | null;
}

/** One page of sensors, ordered by id. */
export interface SensorPage {
  sensors: SensorInfo[];
  /** Pass it as `after` for the next page; `null` on the last. */
  next: string | null;
}

/** What a publish stream did. */
export interface PublishResult {
  accepted: number;
  rejected: number;
  /** The first 20 rejections. */
  rejections: PublishRejection[];
}

/** One rejected item of a publish stream. */
export interface PublishRejection {
  /** The item's position in the stream, from 0 (over all batches for `publishBatches`). */
  index: number;
  sensorId: string | null;
  /** `invalid_argument`, `not_allowed`, `rate_limited` or `too_many_sensors`. */
  code: string;
  reason: string;
}

/** How the server reads a CSV upload (`text/csv`); every field optional. */
export interface CsvOptions {
  /** `,` `;` a tab or `|`; `null`: found from the first line. */
  delimiter?: string | null;
  /** Put in front of every sensor id the file names. */
  sensorPrefix?: string | null;
  /** An IANA time zone id for timestamps without an offset; `null`: UTC. */
  timeZone?: string | null;
  /** `iso8601`, `unixSeconds`, `unixMilliseconds` or a .NET custom date-time format read in `timeZone`. */
  timestampFormat?: string | null;
}

/** `BeginUpload`'s argument. */
export interface UploadRequest {
  /** The file's name: no path separators, no `..`, not empty. Only shown. */
  name: string;
  /** `text/plain` is processed as a log, `text/csv` as readings; others stored and hashed only. */
  contentType: string;
  /** The size in bytes, if known. */
  totalBytes?: number | null;
  /** The whole file's SHA-256, lowercase hex, if known beforehand: the server checks it. */
  sha256?: string | null;
  /** How to read a CSV. */
  csv?: CsvOptions | null;
}

/** Where an upload stands. */
export interface UploadStatus {
  uploadId: string;
  name: string;
  contentType: string;
  /** Bytes on the server's disk: the offset to resume at. */
  receivedBytes: number;
  totalBytes: number | null;
  complete: boolean;
  /** Once complete. */
  sha256: string | null;
  /** Once failed. */
  error: string | null;
}

/** What an `Upload` call did. */
export interface UploadResult {
  uploadId: string;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  log: LogSummary | null;
  csv: CsvSummary | null;
}

/** A log upload's summary (`text/plain`). */
export interface LogSummary {
  lines: number;
  entries: number;
  errors: number;
  warnings: number;
  infos: number;
  debug: number;
  other: number;
  /** The format recognised; "" until one is. */
  format: string;
  firstErrors: LineSample[];
}

/** One line of a log. */
export interface LineSample {
  /** From 1. */
  line: number;
  /** At most 1,000 characters. */
  text: string;
}

/** A CSV upload's summary (`text/csv`). */
export interface CsvSummary {
  /** `long`, `wide` or "" until known. */
  layout: string;
  /** `,` `;` a tab `|` or "" until known. */
  delimiter: string;
  header: boolean;
  /** Rows without a header and blank lines. */
  rows: number;
  /** Readings accepted: one per long row, one per non-empty wide cell. */
  accepted: number;
  /** Readings rejected; an unparsable row counts one. */
  rejected: number;
  firstRejections: RowRejection[];
}

/** One rejected CSV row or cell. */
export interface RowRejection {
  /** From 1. */
  line: number;
  code: string;
  reason: string;
  /** A wide cell's header name; `null` for a whole row. */
  column: string | null;
}

/** A live session. */
export interface SessionInfo {
  id: string;
  title: string;
  /** The creator's name, to show. */
  owner: string;
  /** The creator's token subject: compare it with yours to know whether you own the session. */
  ownerId: string;
  sensorIds: string[];
  private: boolean;
}

/** `CreateSession`'s argument. */
export interface CreateSessionRequest {
  title: string;
  sensorIds: string[];
  private?: boolean;
  /** Token subjects (not names) of those invited to a private session. */
  invited?: string[] | null;
}

/** The kinds of `SessionEvent`. */
export type SessionEventKind = "snapshot" | "joined" | "left" | "annotated" | "sensorsChanged" | "ended";

/** One event of a joined session. */
export interface SessionEvent {
  kind: SessionEventKind;
  /** With `snapshot`. */
  session: SessionInfo | null;
  /** With `snapshot` (the joiner included). */
  participants: Participant[] | null;
  /** With `joined` and `left`. */
  participant: Participant | null;
  /** With `snapshot`: the recent ones. */
  annotations: Annotation[] | null;
  /** With `annotated`. */
  annotation: Annotation | null;
  /** With `sensorsChanged`. */
  sensorIds: string[] | null;
}

/** Someone present in a session. */
export interface Participant {
  /** The token's subject: what presence is keyed by. */
  id: string;
  /** To show; two participants may share one. */
  name: string;
  connections: number;
}

/** A note on a session. */
export interface Annotation {
  id: string;
  /** A name, to show. */
  author: string;
  /** The author's token subject. */
  authorId: string;
  text: string;
  sensorId: string | null;
  sequence: number | null;
  time: Date;
}

/** `Annotate`'s argument. */
export interface AnnotationInput {
  text: string;
  /** One of the session's sensors. */
  sensorId?: string | null;
  /** Needs `sensorId`. */
  sequence?: number | null;
}

/** `GET /api/stats`. */
export interface ServerStats {
  connections: number;
  /** Server-side stream generators running now. */
  activeStreams: number;
  sensors: number;
  readingsPublished: number;
  readingsDelivered: number;
  readingsDropped: number;
  /** Per error code, how many calls, items and rows were refused since start. */
  refusals: Record<string, number>;
  /** On Redis: the node's name. */
  node?: string;
  /** On Redis: which counters are cluster-wide. */
  clusterWide?: string[];
}
