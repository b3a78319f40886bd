// The hub connection with an explicit state that the page shows at all times.
// States: connecting, connected, reconnecting, resumed (connected again after a drop), disconnected.
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

/** SignalR logs a dropped transport as an error; for the dashboard that is a state it shows, not a page fault. */
class StateLogger {
  constructor(onLine) { this.onLine = onLine; }
  log(level, message) {
    if (level < signalR.LogLevel.Warning) return;
    this.onLine(message);
    console.warn(`signalr: ${message}`);
  }
}

export class HubClient {
  /** `tokenProvider` returns (or resolves to) the token to connect with, or null for none. */
  constructor({ protocol = "msgpack", tokenProvider = () => null } = {}) {
    this.protocol = protocol === "json" ? "json" : "msgpack";
    this.tokenProvider = tokenProvider;
    this.state = "disconnected";
    this.lastError = null;
    this.listeners = new Set();
    this.reconnectedHandlers = new Set();
    this.connection = this.#build();
  }

  get binary() { return this.protocol === "msgpack"; }

  #build() {
    // SignalR asks for the token at every connection attempt (the start and each reconnect). The server closes a
    // connection once its token expires, allowing a reconnect: the provider then hands out a fresh token, so a
    // signed-in tab comes back by itself. No token ("") connects as a guest where the server allows guests.
    // WebSockets without negotiation: one request, the upgrade, so that any node of a cluster behind a load balancer
    // can take the connection (a negotiated id would be known to one node only). The token then travels in the
    // query string (access_token), as browsers cannot set headers on a WebSocket.
    const builder = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/sensors", {
        skipNegotiation: true,
        transport: signalR.HttpTransportType.WebSockets,
        accessTokenFactory: async () => (await this.tokenProvider()) ?? "",
      })
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => [0, 500, 1000, 2000][ctx.previousRetryCount] ?? 3000 })
      .configureLogging(new StateLogger(line => { this.lastError = line; }));
    if (this.binary) builder.withHubProtocol(new MessagePackHubProtocol());
    const connection = builder.build();
    connection.onreconnecting(() => this.#set("reconnecting"));
    connection.onreconnected(() => { this.#set("resumed"); this.#fireReconnected(); });
    connection.onclose(() => {
      this.#set("disconnected");
      // Automatic reconnect gave up (or never began): keep trying, the page must come back by itself.
      if (!this.stopping) setTimeout(() => this.start(), 3000);
    });
    return connection;
  }

  #set(state) {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  #fireReconnected() {
    for (const handler of this.reconnectedHandlers) handler();
  }

  onState(listener) { this.listeners.add(listener); listener(this.state); return () => this.listeners.delete(listener); }

  /** Called after every reconnect and after a restart with another identity: open streams must be opened again. */
  onReconnected(handler) { this.reconnectedHandlers.add(handler); return () => this.reconnectedHandlers.delete(handler); }

  async start() {
    this.stopping = false;
    if (this.connection.state !== signalR.HubConnectionState.Disconnected) return;
    this.#set("connecting");
    try {
      await this.connection.start();
      this.#set("connected");
    } catch (error) {
      this.lastError = String(error);
      this.#set("disconnected");
      setTimeout(() => this.start(), 2000);
    }
  }

  /** Restarts with the current token (after signing in or out); open views resubscribe as after a reconnect. */
  async restart() {
    this.stopping = true;
    await this.connection.stop();
    await this.start();
    this.#fireReconnected();
  }

  /** Resolves when the connection is usable. */
  ready() {
    if (this.isConnected) return Promise.resolve();
    return new Promise(resolve => {
      const off = this.onState(state => {
        if (state === "connected" || state === "resumed") { queueMicrotask(() => off()); resolve(); }
      });
    });
  }

  get isConnected() { return this.connection.state === signalR.HubConnectionState.Connected; }

  invoke(method, ...args) { return this.connection.invoke(method, ...args); }
  stream(method, ...args) { return this.connection.stream(method, ...args); }

  /**
   * The node answered backend_unavailable (it cannot reach Redis): drops the connection as a network failure would,
   * so that automatic reconnect runs and every open view resumes from where it stood (onReconnected). Behind a load
   * balancer the new connection can land on another node; straight on a node it comes back to the same one, which
   * serves again once Redis is back. Many views answered at once make one drop; refusals in a row wait longer each
   * time (up to 5 s), so that a node that stays without Redis is not hammered.
   */
  failOver(reason) {
    if (this.failOverPending) return;
    const now = Date.now();
    this.backendStrikes = now - (this.lastBackendStrike ?? 0) > 30000 ? 0 : (this.backendStrikes ?? 0) + 1;
    this.lastBackendStrike = now;
    this.lastError = String(reason ?? "backend unavailable");
    this.failOverPending = true;
    const delay = this.backendStrikes === 0 ? 0 : Math.min(250 * 2 ** (this.backendStrikes - 1), 5000);
    setTimeout(() => {
      this.failOverPending = false;
      if (this.connection.state === signalR.HubConnectionState.Connected) this.connection.connection.stop(new Error(`backend unavailable: ${this.lastError}`));
    }, delay);
  }

  /** Test hook: drops the transport as a network failure would, so that automatic reconnect takes over. */
  simulateDrop() { return this.connection.connection.stop(new Error("simulated network drop")); }
}

export { signalR };
