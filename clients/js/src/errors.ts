/**
 * The stable codes of the errors the server raises on purpose (`SensorHubErrors` in SensorHub.Contracts, the list in
 * docs/contract.md "Errors"). Decide by code, never by the English text, which may change. The .NET contract test
 * compares this list with the .NET one both ways.
 */
export const SensorHubErrorCodes = {
  InvalidArgument: "invalid_argument",
  NotAllowed: "not_allowed",
  UnknownSensor: "unknown_sensor",
  UnknownUpload: "unknown_upload",
  UnknownSession: "unknown_session",
  TooManyStreams: "too_many_streams",
  TooManyUploads: "too_many_uploads",
  ServerBusy: "server_busy",
  TooManySessions: "too_many_sessions",
  SessionFull: "session_full",
  RateLimited: "rate_limited",
  FellBehind: "fell_behind",
  UploadHasWriter: "upload_has_writer",
  UploadOffsetMismatch: "upload_offset_mismatch",
  UploadComplete: "upload_complete",
  UploadFailed: "upload_failed",
  UploadNotComplete: "upload_not_complete",
  TooLarge: "too_large",
  TooManySensors: "too_many_sensors",
  QuotaExceeded: "quota_exceeded",
  InsufficientStorage: "insufficient_storage",
  BackendUnavailable: "backend_unavailable",
} as const;

/** One of the server's error codes. */
export type SensorHubErrorCode = (typeof SensorHubErrorCodes)[keyof typeof SensorHubErrorCodes];

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(SensorHubErrorCodes));
const HUB_EXCEPTION = "HubException: ";
const CODE = /^[a-z0-9_]{1,64}$/;
// SignalR's own words (ASP.NET Core's DefaultHubDispatcher) in front of every error the server sends without a code:
// a stream's fault, a call's fault, a call the server could not bind or dispatch (a wrongly typed argument, an unknown
// method, a refused authorization, a stream/non-stream mismatch, a stream argument count or id it does not know), and a
// stream the server cancelled. None is SignalR's client's own text for a lost connection ("Invocation canceled due to
// the underlying connection being closed.", "Server timeout elapsed ...", "WebSocket closed ..."): those stay
// "connection", resumed; these are "server", final.
const SERVER_PREFIXES = [
  "An error occurred on the server while streaming results.",
  "An unexpected error occurred invoking '",
  "Failed to invoke '",
  "Unknown hub method '",
  "The client attempted to invoke the ",
  "Client sent ",
  "Invocation canceled by the server.",
];
const SERVER_PATTERNS = [/^Stream '?[^']*'? not found/, /^Unable to find stream /];

/** Where an error came from: the server (a refusal or a fault), the connection, or this library's own checks. */
export type SensorHubErrorKind =
  /** The server refused the call with a code (`code` is set). */
  | "refused"
  /** The server failed without a code: an unexpected error on its side. */
  | "server"
  /** The connection dropped under a call that cannot be resumed (a publish, a session's creation). */
  | "connection"
  /** The library found the problem: a bad argument, an upload whose hash differs, a client that is stopped. */
  | "client";

/**
 * Every error this library throws or reports. `code` is the server's code where the server refused (parsed from its
 * `[code] message`, whatever SignalR put in front of it), otherwise `null`. `message` is the server's own words
 * (`[code] text`) without SignalR's prefix; `serverText` is the text after the code.
 */
export class SensorHubError extends Error {
  /** The server's code, or `null` where the error carries none (a drop, a server fault, a client-side check). */
  readonly code: SensorHubErrorCode | null;
  /** Where the error came from. */
  readonly kind: SensorHubErrorKind;
  /** The server's text after the code (or the whole message where there is no code), for people. */
  readonly serverText: string;
  /** For `rate_limited`: how long the server asks to wait, in milliseconds; otherwise `null`. */
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { code?: SensorHubErrorCode | null; kind: SensorHubErrorKind; cause?: unknown; serverText?: string }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SensorHubError";
    this.code = options.code ?? null;
    this.kind = options.kind;
    this.serverText = options.serverText ?? message;
    this.retryAfterMs = retryAfterOf(message);
  }

  /**
   * Wraps what SignalR rejected a call or a stream with: the code is the bracketed word at the very start of the
   * message, or right after its first `HubException: ` (the rule of `SensorHubErrors.CodeOf`). An error that is a
   * `SensorHubError` already is returned as it is.
   */
  static from(error: unknown): SensorHubError {
    if (error instanceof SensorHubError) return error;
    const message = messageOf(error);
    const parsed = parseCode(message);
    if (parsed) {
      const serverMessage = `[${parsed.code}] ${parsed.text}`;
      return new SensorHubError(serverMessage, { code: parsed.code as SensorHubErrorCode, kind: "refused", cause: error, serverText: parsed.text });
    }
    const kind: SensorHubErrorKind = isServerFault(message) ? "server" : "connection";
    return new SensorHubError(message, { kind, cause: error });
  }
}

/** The server's SHA-256 of a completed upload differs from the one this client computed while reading the file. */
export class UploadVerificationError extends SensorHubError {
  /** The upload's id. */
  readonly uploadId: string;
  /** This client's SHA-256 of the bytes it read, lowercase hex. */
  readonly expectedSha256: string;
  /** The server's, lowercase hex (or `null` where it gave none). */
  readonly actualSha256: string | null;

  constructor(uploadId: string, expectedSha256: string, actualSha256: string | null) {
    super(`Upload '${uploadId}' completed, but the server's SHA-256 ${actualSha256 ?? "(none)"} differs from the client's ${expectedSha256}.`, { kind: "client" });
    this.name = "UploadVerificationError";
    this.uploadId = uploadId;
    this.expectedSha256 = expectedSha256;
    this.actualSha256 = actualSha256;
  }
}

/** The code in an error or message as a client receives it, or `null` where it carries none. */
export function codeOf(error: unknown): SensorHubErrorCode | null {
  if (error instanceof SensorHubError) return error.code;
  return (parseCode(messageOf(error))?.code as SensorHubErrorCode | undefined) ?? null;
}

/** Whether `code` is one of the codes this version knows (a newer server may send others; they still parse). */
export function isKnownCode(code: string): code is SensorHubErrorCode {
  return KNOWN_CODES.has(code);
}

/** `retry after N ms.` at the end of a `rate_limited` text, in milliseconds, or `null` (`SensorHubErrors.RetryAfterOf`). */
export function retryAfterOf(message: string): number | null {
  const match = /retry after (\d+) ms/.exec(message.slice(message.lastIndexOf("retry after ")));
  return match ? Number(match[1]) : null;
}

/**
 * Whether an error without a code was sent by the server (a fault of its own) rather than made by the connection
 * going away: SignalR puts the same words in front of every error the server sends.
 */
export function isServerFault(message: string): boolean {
  return SERVER_PREFIXES.some(prefix => message.startsWith(prefix)) || SERVER_PATTERNS.some(pattern => pattern.test(message));
}

function messageOf(error: unknown): string {
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  return String((error as { message?: unknown } | null)?.message ?? error ?? "");
}

function codeAt(message: string, start: number): { code: string; text: string } | null {
  if (message[start] !== "[") return null;
  const end = message.indexOf("]", start + 1);
  if (end < 0) return null;
  const code = message.slice(start + 1, end);
  return CODE.test(code) ? { code, text: message.slice(end + 1).trimStart() } : null;
}

function parseCode(message: string): { code: string; text: string } | null {
  const atStart = codeAt(message, 0);
  if (atStart) return atStart;
  const marker = message.indexOf(HUB_EXCEPTION);
  return marker < 0 ? null : codeAt(message, marker + HUB_EXCEPTION.length);
}
