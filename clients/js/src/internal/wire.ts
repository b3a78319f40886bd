// What the wire carries, made the same under both protocols. MessagePack gives times as Dates (its timestamp type)
// and bytes as Uint8Array; JSON gives ISO 8601 strings and base64 text. Users see Dates and Uint8Arrays on both.
import type {
  Annotation, CsvSummary, LogSummary, Participant, PublishResult, Reading, SensorInfo, SensorPage, SessionEvent, SessionInfo, UploadResult,
  UploadStatus,
} from "../types.js";

type Wire = Record<string, unknown>;

/** A time from either protocol as a Date; `null` stays `null`. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "string" || typeof value === "number") return new Date(value);
  // The .NET MessagePack formatter of a DateTimeOffset sends [Date, offset minutes]: take the instant.
  if (Array.isArray(value) && value[0] instanceof Date) return value[0];
  return new Date(Number.NaN);
}

const dateOrNull = (value: unknown): Date | null => (value === null || value === undefined ? null : toDate(value));
const num = (value: unknown): number => (typeof value === "bigint" ? Number(value) : Number(value ?? 0));
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : num(value));
const str = (value: unknown): string => (value === null || value === undefined ? "" : String(value));
const strOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const list = <T>(value: unknown, map: (item: unknown) => T): T[] => (Array.isArray(value) ? value.map(map) : []);
const listOrNull = <T>(value: unknown, map: (item: unknown) => T): T[] | null => (Array.isArray(value) ? value.map(map) : null);

/** Bytes from either protocol (base64 text under JSON). */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") {
    const text = atob(value);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError("Expected bytes.");
}

/** Bytes as the protocol carries a `byte[]`: as they are under MessagePack, base64 text under JSON. */
export function toWireBytes(bytes: Uint8Array, binary: boolean): Uint8Array | string {
  if (binary) return bytes;
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

const reading = (w: unknown): Reading => {
  const r = w as Wire;
  return { sensorId: str(r.sensorId), sequence: num(r.sequence), timestamp: toDate(r.timestamp), value: num(r.value) };
};

const sensorInfo = (w: unknown): SensorInfo => {
  const s = w as Wire;
  return {
    id: str(s.id), name: str(s.name), unit: strOrNull(s.unit), kind: str(s.kind), firstSequence: num(s.firstSequence),
    lastSequence: num(s.lastSequence), lastValue: numOrNull(s.lastValue), lastTimestamp: dateOrNull(s.lastTimestamp),
  };
};

const participant = (w: unknown): Participant => {
  const p = w as Wire;
  return { id: str(p.id), name: str(p.name), connections: num(p.connections) };
};

const annotation = (w: unknown): Annotation => {
  const a = w as Wire;
  return {
    id: str(a.id), author: str(a.author), authorId: str(a.authorId), text: str(a.text), sensorId: strOrNull(a.sensorId),
    sequence: numOrNull(a.sequence), time: toDate(a.time),
  };
};

const sessionInfo = (w: unknown): SessionInfo => {
  const s = w as Wire;
  return { id: str(s.id), title: str(s.title), owner: str(s.owner), ownerId: str(s.ownerId), sensorIds: list(s.sensorIds, str), private: Boolean(s.private) };
};

const logSummary = (w: unknown): LogSummary => {
  const l = w as Wire;
  return {
    lines: num(l.lines), entries: num(l.entries), errors: num(l.errors), warnings: num(l.warnings), infos: num(l.infos), debug: num(l.debug),
    other: num(l.other), format: str(l.format),
    firstErrors: list(l.firstErrors, x => ({ line: num((x as Wire).line), text: str((x as Wire).text) })),
  };
};

const csvSummary = (w: unknown): CsvSummary => {
  const c = w as Wire;
  return {
    layout: str(c.layout), delimiter: str(c.delimiter), header: Boolean(c.header), rows: num(c.rows), accepted: num(c.accepted),
    rejected: num(c.rejected),
    firstRejections: list(c.firstRejections, x => {
      const r = x as Wire;
      return { line: num(r.line), code: str(r.code), reason: str(r.reason), column: strOrNull(r.column) };
    }),
  };
};

/** Converters from what either protocol delivers to the library's types. */
export const fromWire = {
  reading,
  readings: (w: unknown): Reading[] => list(w, reading),
  sensorInfo,
  sensorPage: (w: unknown): SensorPage => {
    const p = (w ?? {}) as Wire;
    return { sensors: list(p.sensors, sensorInfo), next: strOrNull(p.next) };
  },
  publishResult: (w: unknown): PublishResult => {
    const p = (w ?? {}) as Wire;
    return {
      accepted: num(p.accepted), rejected: num(p.rejected),
      rejections: list(p.rejections, x => {
        const r = x as Wire;
        return { index: num(r.index), sensorId: strOrNull(r.sensorId), code: str(r.code), reason: str(r.reason) };
      }),
    };
  },
  uploadStatus: (w: unknown): UploadStatus => {
    const s = w as Wire;
    return {
      uploadId: str(s.uploadId), name: str(s.name), contentType: str(s.contentType), receivedBytes: num(s.receivedBytes),
      totalBytes: numOrNull(s.totalBytes), complete: Boolean(s.complete), sha256: strOrNull(s.sha256), error: strOrNull(s.error),
    };
  },
  uploadResult: (w: unknown): UploadResult => {
    const r = w as Wire;
    return {
      uploadId: str(r.uploadId), bytes: num(r.bytes), sha256: strOrNull(r.sha256), complete: Boolean(r.complete),
      log: r.log === null || r.log === undefined ? null : logSummary(r.log),
      csv: r.csv === null || r.csv === undefined ? null : csvSummary(r.csv),
    };
  },
  sessionInfo,
  sessionEvent: (w: unknown): SessionEvent => {
    const e = w as Wire;
    return {
      kind: str(e.kind) as SessionEvent["kind"],
      session: e.session === null || e.session === undefined ? null : sessionInfo(e.session),
      participants: listOrNull(e.participants, participant),
      participant: e.participant === null || e.participant === undefined ? null : participant(e.participant),
      annotations: listOrNull(e.annotations, annotation),
      annotation: e.annotation === null || e.annotation === undefined ? null : annotation(e.annotation),
      sensorIds: listOrNull(e.sensorIds, str),
    };
  },
};
