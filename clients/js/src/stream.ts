import { SensorHubError } from "./errors.js";
import type { Connection } from "./internal/connection.js";
import type { ResumeSpec } from "./internal/resumable.js";
import { runResumable } from "./internal/resumable.js";

/** Callbacks any stream of this library takes, besides its item callback. */
export interface StreamCallbacks {
  /**
   * The stream ended with an error (a refusal: see `SensorHubError.code`; or a server fault). Called once; the
   * iterator, if any, throws the same error.
   */
  onError?: (error: SensorHubError) => void;
  /** The stream ended, for whatever reason: `close()`, its last item, or an error (then passed). Called once, last. */
  onClose?: (error: SensorHubError | null) => void;
  /** Closes the stream when aborted, as `close()` does. */
  signal?: AbortSignal;
}

/**
 * A server-to-client stream that outlives dropped connections: an async iterable of its items (`for await`), or,
 * where an item callback was given, a feed of that callback. One or the other: a stream built with an item callback
 * cannot be iterated.
 *
 * - Leaving a `for await` loop (`break`, `return`, a throw) or calling `close()` disposes the server's stream at once
 *   (the server's generator ends; `activeStreams` in `/api/stats` falls).
 * - The iterator's buffer is bounded (`bufferSize` items of the method's options). When the consumer lets it fill,
 *   the client disposes the server's stream and opens it again from where the consumer stands once the buffer has
 *   drained to half: for subscriptions that is the last delivered sequence plus one, so a slow consumer loses nothing
 *   that the server's history still holds (and is told of what it no longer holds, as a gap). A session rejoins
 *   (a fresh snapshot); a download goes on at its byte offset.
 * - One iterator at a time: a second `[Symbol.asyncIterator]()` while one is open throws.
 */
export class SensorHubStream<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private iterating = false;
  private ended = false;
  private endError: SensorHubError | null = null;
  private readonly abort = new AbortController();
  private drainWaiter: (() => void) | null = null;
  /** @internal */
  readonly capacity: number;

  /** @internal */
  constructor(
    connection: Connection,
    spec: ResumeSpec<unknown, T>,
    private readonly options: { onItem?: ((item: T) => void) | undefined; bufferSize?: number | undefined } & StreamCallbacks,
    private readonly onFinished?: (stream: SensorHubStream<T>) => void,
  ) {
    this.capacity = Math.max(2, options.bufferSize ?? 10_000);
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.close());
      else options.signal.addEventListener("abort", () => this.close(), { once: true });
    }
    // Started on the next tick, so that a caller can still attach what it wants before the first item.
    queueMicrotask(() => {
      runResumable(connection, spec, this, this.abort.signal).then(
        () => this.finish(null),
        error => this.finish(error instanceof SensorHubError ? error : SensorHubError.from(error)),
      );
    });
  }

  /** Whether the stream has ended (closed, completed or failed). */
  get closed(): boolean {
    return this.ended;
  }

  /** Items received and waiting for the iterator (at most about `bufferSize`: see the class's remarks). */
  get buffered(): number {
    return this.queue.length;
  }

  /** The error the stream ended with, or `null`. */
  get error(): SensorHubError | null {
    return this.endError;
  }

  /**
   * Ends the stream: disposes the server's stream at once, ends the iterator (`done`), calls `onClose(null)`.
   * Calling it again does nothing.
   */
  close(): void {
    this.finish(null);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.options.onItem) throw new TypeError("This stream delivers to its item callback; open one without the callback to iterate it.");
    if (this.iterating) throw new TypeError("This stream is iterated already: one iterator at a time.");
    this.iterating = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.iterating = false;
        this.close();
        return { done: true, value: undefined };
      },
      throw: async (error?: unknown) => {
        this.iterating = false;
        this.close();
        throw error;
      },
    };
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.drainWaiter && this.queue.length <= this.capacity / 2) {
        const wake = this.drainWaiter;
        this.drainWaiter = null;
        wake();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) return this.endError ? Promise.reject(this.endError) : Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** @internal Whether the consumer's buffer is full: the driver then pauses the server's stream. */
  get full(): boolean {
    return !this.options.onItem && this.queue.length >= this.capacity;
  }

  /** @internal Resolves once the buffer has drained to half (or the stream ended). */
  drained(): Promise<void> {
    if (this.ended || this.queue.length <= this.capacity / 2) return Promise.resolve();
    return new Promise(resolve => {
      this.drainWaiter = resolve;
    });
  }

  /** @internal Hands one item to the consumer. Returns false once the stream has ended. */
  deliver(item: T): boolean {
    if (this.ended) return false;
    if (this.options.onItem) {
      try {
        this.options.onItem(item);
      } catch (error) {
        // A callback's own failure ends the stream with it, rather than vanish inside SignalR's message loop.
        this.finish(new SensorHubError(`The stream's callback threw: ${String((error as Error)?.message ?? error)}`, { kind: "client", cause: error }));
        return false;
      }
      return !this.ended;
    }
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve({ done: false, value: item });
    } else {
      this.queue.push(item);
    }
    return true;
  }

  /** @internal The driver's abort signal: aborted when the stream ends. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private finish(error: SensorHubError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    this.abort.abort();
    if (this.drainWaiter) {
      const wake = this.drainWaiter;
      this.drainWaiter = null;
      wake();
    }
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      if (error && this.queue.length === 0) waiter.reject(error);
      else waiter.resolve({ done: true, value: undefined });
    }
    this.onFinished?.(this);
    if (error) safely(() => this.options.onError?.(error));
    safely(() => this.options.onClose?.(error));
  }
}

function safely(call: () => void): void {
  try {
    call();
  } catch {
    // A consumer's callback failing while the stream ends has nothing left to end.
  }
}
