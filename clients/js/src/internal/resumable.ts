import type { ISubscription } from "@microsoft/signalr";
import { SensorHubError, SensorHubErrorCodes } from "../errors.js";
import type { Connection } from "./connection.js";
import { sleep } from "./connection.js";

/** How an attempt ended without ending the operation. */
export type Interruption = "connectionLost" | "endedByServer" | "interrupted" | "refused";

/** Why the next attempt is a resume: how the last one ended, and the server's code where there was one. */
export interface ResumeReason {
  cause: Interruption;
  code: string | null;
  error: SensorHubError | null;
}

/**
 * What one kind of resumable operation does differently; `runResumable` is the loop they share (the .NET SDK's
 * `ResumeSpec`/`Resumable`, with one addition: `accept` may hold items back while it asks the server something).
 */
export interface ResumeSpec<TWire, TOut> {
  method: string;
  /** Before every attempt (`null` before the first); its errors end the operation. */
  beforeAttempt?: (reason: ResumeReason | null, signal: AbortSignal) => void | Promise<void>;
  /** The arguments of this attempt, from where the consumer stands. */
  args: () => unknown[];
  /** Turns a wire item into what the consumer gets (none: a duplicate); may be async (a gap to classify first). */
  accept: (item: TWire) => TOut[] | Promise<TOut[]>;
  /** Whether an item, once delivered, ends the operation (a session's `ended`). */
  isLast?: (item: TOut) => boolean;
  /** Whether a stream the server completed has finished the operation (a download with every byte). Default: no. */
  endIsFinal?: () => boolean;
  /** Codes that end a running stream and are resumed at once, like a drop. */
  resumesAfter?: (code: string) => boolean;
  /** How long a refusal with this code is retried while resuming, in ms (negative: for ever); `null`: final. */
  patienceFor?: (code: string) => number | null;
  /** Whether a full consumer buffer may pause the server's stream (resumed from where the consumer stands). */
  pausable: boolean;
  /** Called with each attempt's arguments after the first: why it reopens (`paused`: a full buffer). */
  onReopen?: (args: unknown[], why: Interruption | "paused") => void;
}

/** The consumer side the loop delivers to (a `SensorHubStream`). */
export interface Sink<TOut> {
  deliver(item: TOut): boolean;
  readonly full: boolean;
  drained(): Promise<void>;
}

/** The attempt count whose pacing follows a stream the server ended: about a second. */
const ENDED_BY_SERVER_PACING = 6;

type Outcome = { kind: "completed" } | { kind: "failed"; error: unknown } | { kind: "paused" } | { kind: "last" } | { kind: "aborted" };

/**
 * The one loop behind every stream of the library that outlives a dropped connection: subscriptions, session joins,
 * downloads, upload watches. Each attempt is one hub stream; when it is interrupted the loop waits for the connection
 * and opens the next attempt from where the consumer stands. The rules (the .NET SDK's):
 * - an error without a code that SignalR made (not the server) is a lost connection: resumed once reconnected;
 * - a stream the server completes early is resumed too (the server is stopping), a moment later;
 * - a server error without a code is a fault: it ends the operation;
 * - a code ends the operation, except `backend_unavailable` (resumed, on the next server where there are several),
 *   codes in `resumesAfter`, and codes with a patience while resuming (retried at the reconnect pace until the
 *   refusals have lasted longer than it). An item received resets all of that.
 * Resolves when the operation is done (its last item, a final end, or `signal` aborted); rejects with its error.
 */
export async function runResumable<TWire, TOut>(connection: Connection, spec: ResumeSpec<TWire, TOut>, sink: Sink<TOut>, signal: AbortSignal): Promise<void> {
  let reason: ResumeReason | null = null;
  let failures = 0;
  let resuming = false;
  let refusedSince: number | null = null;
  let refusals = 0;
  // The connection being left after backend_unavailable: the next attempt waits for a newer one.
  let leftGeneration: number | undefined;
  let first = true;
  let paused = false;

  for (;;) {
    if (signal.aborted) return;
    await spec.beforeAttempt?.(reason, signal);
    const paced = reason?.cause === "refused" ? 0 : reason?.cause === "endedByServer" ? Math.max(failures, ENDED_BY_SERVER_PACING) : failures;
    try {
      await connection.ready(paced, signal, leftGeneration);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    leftGeneration = undefined;
    const generation = connection.generation;
    let gotItem = false;
    const why: Interruption | "paused" | null = first ? null : paused ? "paused" : reason?.cause ?? null;
    first = false;
    paused = false;
    const outcome = await attempt(connection, spec, sink, signal, why, () => {
      gotItem = true;
    });
    if (gotItem) {
      failures = 0;
      resuming = true;
      refusedSince = null;
      refusals = 0;
    }
    switch (outcome.kind) {
      case "aborted":
      case "last":
        return;
      case "paused":
        // The consumer's buffer is full: wait until it has room, then go on from where it stands. Not an interruption.
        await sink.drained();
        reason = null;
        paused = true;
        continue;
      case "completed":
        if (spec.endIsFinal?.()) return;
        reason = { cause: "endedByServer", code: null, error: null };
        break;
      case "failed": {
        const error = SensorHubError.from(outcome.error);
        if (error.kind === "connection") {
          reason = { cause: "connectionLost", code: null, error };
          break;
        }
        const code = error.code;
        if (code === null) throw error;
        if (code === SensorHubErrorCodes.BackendUnavailable || spec.resumesAfter?.(code)) {
          if (code === SensorHubErrorCodes.BackendUnavailable && connection.leave(generation, error.message)) leftGeneration = generation;
          reason = { cause: "interrupted", code, error };
          break;
        }
        const patience = resuming ? spec.patienceFor?.(code) ?? null : null;
        if (patience === null) throw error;
        refusedSince ??= Date.now();
        const elapsed = Date.now() - refusedSince;
        if (patience >= 0 && elapsed >= patience) throw error;
        refusals++;
        await sleep(Math.min(5_000, 250 * refusals), signal).catch(() => undefined);
        reason = { cause: "refused", code, error };
        continue;
      }
    }
    resuming = true;
    refusedSince = null;
    refusals = 0;
    failures++;
  }
}

/** One attempt: one hub stream, its items accepted and delivered in order, until it ends, pauses or is aborted. */
function attempt<TWire, TOut>(
  connection: Connection, spec: ResumeSpec<TWire, TOut>, sink: Sink<TOut>, signal: AbortSignal, why: Interruption | "paused" | null, onItem: () => void,
): Promise<Outcome> {
  return new Promise<Outcome>(resolve => {
    const inbox: TWire[] = [];
    let pumping = false;
    let settled = false;
    let terminal: Outcome | null = null;
    let subscription: ISubscription<TWire> | null = null;

    const settle = (outcome: Outcome, dispose: boolean) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (dispose && subscription) {
        try {
          subscription.dispose();
        } catch {
          // Already ended with its connection.
        }
      }
      resolve(outcome);
    };
    const onAbort = () => settle({ kind: "aborted" }, true);
    signal.addEventListener("abort", onAbort, { once: true });

    // Items are taken one at a time, in order; `accept` is synchronous but for a gap it must classify first, during
    // which later items wait in the inbox. A terminal event waits for the inbox to be empty.
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (inbox.length > 0 && !settled) {
          const item = inbox.shift()!;
          let out = spec.accept(item);
          if (out instanceof Promise) out = await out;
          if (settled) return;
          if (out.length > 0) onItem();
          for (const value of out) {
            if (!sink.deliver(value)) return settle({ kind: "aborted" }, true);
            if (spec.isLast?.(value)) return settle({ kind: "last" }, true);
          }
          if (spec.pausable && sink.full) return settle({ kind: "paused" }, true);
        }
        if (terminal) settle(terminal, false);
      } catch (error) {
        settle({ kind: "failed", error }, true);
      } finally {
        pumping = false;
      }
    };

    if (signal.aborted) return settle({ kind: "aborted" }, false);
    try {
      const args = spec.args();
      if (why !== null && spec.onReopen) {
        try {
          spec.onReopen(args, why);
        } catch {
          // A consumer's callback must not stop the stream from resuming.
        }
      }
      subscription = connection.stream<TWire>(spec.method, args).subscribe({
        next: item => {
          if (settled) return;
          inbox.push(item);
          void pump();
        },
        error: error => {
          terminal = { kind: "failed", error };
          if (!pumping) void pump();
        },
        complete: () => {
          terminal = { kind: "completed" };
          if (!pumping) void pump();
        },
      });
      if (settled && subscription) subscription.dispose();
    } catch (error) {
      settle({ kind: "failed", error }, false);
    }
  });
}
