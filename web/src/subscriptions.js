// Keeps every connection.stream(...) subscription a view opens, and disposes them when the view closes.
export class SubscriptionManager {
  constructor() { this.byOwner = new Map(); }

  /** Subscribes `observer` to `stream` on behalf of `owner`; returns the subscription. */
  add(owner, stream, observer) {
    const set = this.byOwner.get(owner) ?? new Set();
    this.byOwner.set(owner, set);
    let subscription = null;
    const forget = () => { if (subscription) set.delete(subscription); };
    subscription = stream.subscribe({
      next: item => observer.next?.(item),
      error: error => { forget(); observer.error?.(error); },
      complete: () => { forget(); observer.complete?.(); },
    });
    set.add(subscription);
    return subscription;
  }

  /** Disposes one subscription (ends the server's generator). */
  remove(owner, subscription) {
    this.byOwner.get(owner)?.delete(subscription);
    try { subscription.dispose(); } catch { /* already ended with its connection */ }
  }

  /** Disposes every subscription of a view. */
  disposeAll(owner) {
    for (const subscription of this.byOwner.get(owner) ?? []) {
      try { subscription.dispose(); } catch { /* already ended with its connection */ }
    }
    this.byOwner.delete(owner);
  }

  get count() { let n = 0; for (const set of this.byOwner.values()) n += set.size; return n; }
}
