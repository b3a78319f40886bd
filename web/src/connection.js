// The page's one SensorHubClient (@sensorhub/client, clients/js) and the connection state the page shows at all times:
// connecting, connected, reconnecting, resumed (connected again after a drop), disconnected. The library reconnects,
// resumes every stream, fails over and pages uploads by itself; what is left here is what only the page knows: its
// token (identity.js), the restart that a sign-in or sign-out needs, and telling the views when either happened.
import { SensorHubClient } from "@sensorhub/client";

export class PageConnection {
  /** `tokenProvider` returns (or resolves to) the token to connect with, or null for none (a guest). */
  constructor({ protocol = "msgpack", tokenProvider = () => null } = {}) {
    // WebSockets without negotiation (the library's way): any node of a cluster behind a load balancer can take the
    // connection. The page has one address, its own origin, which may be such a balancer: a node that answers
    // backend_unavailable (it cannot reach Redis) is left by dropping the connection, so that the reconnection can
    // land on another node (leaveOnBackendUnavailable; with one address the library would otherwise stay).
    // The token is asked for at every connection attempt: the server closes a connection once its token expires,
    // allowing a reconnect, and the provider then hands out a fresh one, so a signed-in tab comes back by itself.
    this.client = new SensorHubClient({
      url: location.origin,
      protocol: protocol === "json" ? "json" : "msgpack",
      accessTokenFactory: tokenProvider,
      leaveOnBackendUnavailable: true,
    });
    this.state = "disconnected";
    this.listeners = new Set();
    this.reconnectedHandlers = new Set();
    this.restartHandlers = new Set();
    this.client.on("state", change => {
      const resumed = change.state === "connected" && change.previous === "reconnecting";
      this.#set(resumed ? "resumed" : change.state);
      if (resumed) this.#fire(this.reconnectedHandlers);
    });
  }

  get protocol() { return this.client.protocol; }
  get isConnected() { return this.state === "connected" || this.state === "resumed"; }

  #set(state) {
    this.state = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  #fire(handlers, ...args) {
    for (const handler of [...handlers]) handler(...args);
  }

  /** Calls `listener(state)` now and at every change; returns the function that stops it. */
  onState(listener) { this.listeners.add(listener); listener(this.state); return () => this.listeners.delete(listener); }

  /** After every reconnection (the library has resumed the streams by then, or is resuming them). */
  onReconnected(handler) { this.reconnectedHandlers.add(handler); return () => this.reconnectedHandlers.delete(handler); }

  /**
   * Around a restart with another identity: `handler("stopping")` before the connection closes (the library ends
   * every stream then: views close theirs first), `handler("started")` once connected again (views reopen them).
   */
  onRestart(handler) { this.restartHandlers.add(handler); return () => this.restartHandlers.delete(handler); }

  /**
   * Connects. The library does not retry a first start that fails (the server is down, or restarting): the page
   * does, every 2 s, as it always came back by itself. Once connected, the library reconnects for ever.
   */
  async start() {
    for (;;) {
      try {
        await this.client.start();
        return;
      } catch (error) {
        console.warn(`sensorhub: ${error.message}`);
        await new Promise(resolve => setTimeout(resolve, 2000));
      }
    }
  }

  /** Restarts with the current token (after signing in or out): views close their streams, then reopen them. */
  async restart() {
    this.#fire(this.restartHandlers, "stopping");
    await this.client.stop();
    await this.start();
    this.#fire(this.restartHandlers, "started");
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

  /** Test hook: drops the transport as a network failure would, so that the library's reconnection takes over. */
  simulateDrop() { return this.client.simulateDrop("simulated network drop"); }
}

/** What to show of an error: the server's own words after its code (the library strips SignalR's), others as they are. */
export const textOf = error => error?.serverText ?? error?.message ?? String(error);
