import { HubConnectionBuilder, HubConnectionState, HttpTransportType, LogLevel } from "@microsoft/signalr";
import type { HubConnection, IRetryPolicy, IStreamResult, ILogger, RetryContext } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { SensorHubError, SensorHubErrorCodes } from "../errors.js";
import { SensorHubRoutes } from "../methods.js";

/** The connection's state, as `SensorHubClient.on("state")` reports it. */
export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting";

/** One change of the connection's state. */
export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Why it dropped or failed, where it did. */
  error: Error | null;
  /** The server's base address the connection is on (or tries next). */
  url: string;
}

/** What the connection is built with (the client's options, checked). */
export interface ConnectionOptions {
  urls: string[];
  protocol: "msgpack" | "json";
  accessTokenFactory: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;
  reconnectDelays: number[];
  logger: ILogger | LogLevel | undefined;
  leaveOnBackendUnavailable: boolean;
}

/**
 * The one hub connection of a client: SignalR's `HubConnection` over WebSockets without negotiation (any node of a
 * cluster can take it), reconnecting with back-off for ever, failing over between servers, with its state as events.
 *
 * - SignalR's automatic reconnect runs with a policy that never gives up; between its failed attempts the next
 *   server is dialled (`baseUrl` may change while reconnecting). Should the connection still close (the server
 *   closed it without allowing a reconnect), this class starts it again itself, at the same pace.
 * - `leave()` (a server answered `backend_unavailable`) drops the connection under SignalR's feet, after pointing the
 *   next attempt at the next server.
 * - `generation` counts the connections made: an operation notes it when it opens, to name the connection an answer
 *   came on.
 */
export class Connection {
  readonly hub: HubConnection;
  readonly binary: boolean;
  private readonly hubUrls: string[];
  private index = 0;
  private pendingIndex: number | null = null;
  private currentState: ConnectionState = "disconnected";
  private readonly listeners = new Set<(change: StateChange) => void>();
  private connectedWaiters: Array<() => void> = [];
  private stopping = true;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private gen = 0;
  // Leaving a server that answered backend_unavailable: once however many answer it at once, waiting longer each time
  // it repeats (a balancer that sends the client back to the same node must not be hammered).
  private leaving = false;
  private leaveStrikes = 0;
  private lastLeave = 0;

  constructor(private readonly options: ConnectionOptions) {
    this.binary = options.protocol === "msgpack";
    this.hubUrls = options.urls.map(hubUrlOf);
    const policy: IRetryPolicy = {
      nextRetryDelayInMilliseconds: (context: RetryContext) => {
        // After a failed attempt the next one goes to the next server (the first call comes before any attempt).
        if (context.previousRetryCount > 0) this.moveTo((this.index + 1) % this.hubUrls.length);
        return this.delay(context.previousRetryCount);
      },
    };
    const builder = new HubConnectionBuilder()
      .withUrl(this.hubUrls[0]!, {
        skipNegotiation: true,
        transport: HttpTransportType.WebSockets,
        accessTokenFactory: async () => (await options.accessTokenFactory?.()) ?? "",
      })
      .withAutomaticReconnect(policy)
      .configureLogging(options.logger ?? LogLevel.None);
    if (this.binary) builder.withHubProtocol(new MessagePackHubProtocol());
    this.hub = builder.build();
    this.hub.onreconnecting(error => {
      if (this.pendingIndex !== null) {
        this.moveTo(this.pendingIndex);
        this.pendingIndex = null;
      }
      this.set("reconnecting", error ?? null);
    });
    this.hub.onreconnected(() => this.connected());
    this.hub.onclose(error => {
      if (this.stopping) {
        this.set("disconnected", error ?? null);
        return;
      }
      // Closed for good by the server (or by a policy): keep trying, as the .NET SDK does.
      this.set("reconnecting", error ?? null);
      this.restartLater(0);
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The base address of the server the connection is on, or tries next. */
  get url(): string {
    return this.options.urls[this.index]!;
  }

  get urls(): readonly string[] {
    return this.options.urls;
  }

  get generation(): number {
    return this.gen;
  }

  get isConnected(): boolean {
    return this.hub.state === HubConnectionState.Connected;
  }

  onState(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects: to each server in turn until one answers; rejects with the last failure when none does. */
  async start(): Promise<void> {
    if (!this.stopping && this.currentState !== "disconnected") return this.ready(0);
    this.stopping = false;
    this.set("connecting", null);
    let last: unknown = null;
    for (let attempt = 0; attempt < this.hubUrls.length; attempt++) {
      if (this.stopping) break;
      try {
        await this.hub.start();
        this.connected();
        return;
      } catch (error) {
        last = error;
        this.moveTo((this.index + 1) % this.hubUrls.length);
      }
    }
    this.stopping = true;
    this.set("disconnected", last instanceof Error ? last : null);
    throw new SensorHubError(`Could not connect to ${this.options.urls.join(", ")}: ${String((last as Error)?.message ?? last)}`, { kind: "connection", cause: last });
  }

  /** Closes the connection; every stream ends, calls in flight fail. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.hub.stop();
    this.set("disconnected", null);
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves once connected. `attempt` counts an operation's failed attempts in a row: a failure seen just before
   * SignalR noticed the drop finds the connection still "connected", so later attempts back off a little.
   * Rejects when the client is stopped, or when `signal` aborts.
   */
  async ready(attempt: number, signal?: AbortSignal, after?: number): Promise<void> {
    if (attempt > 0) await sleep(Math.min(1_000, 25 << Math.min(attempt, 6)), signal);
    for (;;) {
      if (signal?.aborted) throw abortError();
      if (this.stopping) throw new SensorHubError("The client is stopped: call start() first.", { kind: "client" });
      // `after`: a connection that is being left does not count, however long it still looks connected.
      if (this.isConnected && (after === undefined || this.gen > after)) return;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError());
        signal?.addEventListener("abort", onAbort, { once: true });
        this.connectedWaiters.push(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  }

  /**
   * Invokes a hub method once connected; an `idempotent` one is invoked again after a drop (and after
   * `backend_unavailable`, on the next server). Errors reach the caller as `SensorHubError`s.
   */
  async invoke<T>(method: string, args: unknown[], idempotent: boolean, signal?: AbortSignal): Promise<T> {
    let after: number | undefined;
    for (let attempt = 0; ; attempt++) {
      await this.ready(attempt, signal, after);
      const generation = this.gen;
      try {
        return (await this.hub.invoke(method, ...args)) as T;
      } catch (raw) {
        const error = SensorHubError.from(raw);
        if (error.code === SensorHubErrorCodes.BackendUnavailable) {
          after = this.leave(generation, error.message) ? generation : undefined;
          if (idempotent) continue;
          throw error;
        }
        if (error.kind === "connection" && idempotent && !signal?.aborted) continue;
        throw error;
      }
    }
  }

  /** Opens a server-to-client stream on the connection as it is (the caller waited for it). */
  stream<T>(method: string, args: unknown[]): IStreamResult<T> {
    return this.hub.stream<T>(method, ...args);
  }

  /**
   * The server of connection `generation` answered that it cannot serve (`backend_unavailable`). With other servers,
   * or with `leaveOnBackendUnavailable` (one address that is a load balancer in front of several nodes), drops that
   * connection so that SignalR reconnects, to the next server or wherever the balancer sends it; otherwise does
   * nothing (the same server serves again later). Once however many streams and calls answer it at once; when it
   * repeats within 30 s the drop waits 250 ms, then twice as long each time, at most 5 s. Returns whether the
   * connection is being left: an operation then waits for the next connection (`ready(…, after)`).
   */
  leave(generation: number, why: string): boolean {
    const single = this.hubUrls.length < 2;
    if ((single && !this.options.leaveOnBackendUnavailable) || generation !== this.gen || !this.isConnected) return false;
    if (this.leaving) return true;
    const now = Date.now();
    this.leaveStrikes = now - this.lastLeave > 30_000 ? 0 : this.leaveStrikes + 1;
    this.lastLeave = now;
    const wait = this.leaveStrikes === 0 ? 0 : Math.min(250 * 2 ** (this.leaveStrikes - 1), 5_000);
    this.leaving = true;
    setTimeout(() => {
      this.leaving = false;
      if (generation !== this.gen || !this.isConnected) return;
      if (!single) this.pendingIndex = (this.index + 1) % this.hubUrls.length;
      void this.drop(`left ${this.url}: ${why}`);
    }, wait);
    return true;
  }

  /** Drops the transport as a network failure would: SignalR reconnects and every stream resumes. For tests, and to leave a server. */
  drop(reason = "connection dropped on purpose"): Promise<void> {
    const transport = (this.hub as unknown as { connection?: { stop(error?: Error): Promise<void> } }).connection;
    return transport ? transport.stop(new Error(reason)) : Promise.resolve();
  }

  /** An access token for an HTTP request to the server (`/api/stats`), or null. */
  async token(): Promise<string | null> {
    return (await this.options.accessTokenFactory?.()) || null;
  }

  private delay(previousRetryCount: number): number {
    const delays = this.options.reconnectDelays;
    return delays[Math.min(previousRetryCount, delays.length - 1)] ?? 5_000;
  }

  private moveTo(index: number): void {
    if (index === this.index) return;
    try {
      this.hub.baseUrl = this.hubUrls[index]!;
      this.index = index;
    } catch {
      // Only possible while connected: the next reconnection moves instead.
      this.pendingIndex = index;
    }
  }

  private restartLater(attempt: number): void {
    if (this.stopping) return;
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = null;
      if (this.stopping || this.hub.state !== HubConnectionState.Disconnected) return;
      if (attempt > 0) this.moveTo((this.index + 1) % this.hubUrls.length);
      try {
        await this.hub.start();
        this.connected();
      } catch {
        this.restartLater(attempt + 1);
      }
    }, this.delay(attempt));
  }

  private connected(): void {
    this.gen++;
    this.set("connected", null);
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake();
  }

  private set(state: ConnectionState, error: Error | null): void {
    const previous = this.currentState;
    if (previous === state && error === null) return;
    this.currentState = state;
    const change: StateChange = { state, previous, error, url: this.url };
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not break the reconnect loop.
      }
    }
  }
}

/** The hub's address on a server given by its base address (a trailing slash or none; a path prefix kept). */
export function hubUrlOf(base: string): string {
  return base.replace(/\/+$/, "") + SensorHubRoutes.Hub;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortError(): Error {
  const error = new Error("The operation was aborted.");
  error.name = "AbortError";
  return error;
}

