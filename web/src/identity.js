// Sign-in with a dev token (Development only). The token lives in sessionStorage: per tab, gone with it. Tokens
// expire (the server closes a connection when its token does), so the name is kept too: it is all a dev token needs
// to be asked for again. freshToken() hands out the stored token, or a new one when it is expired or about to be.
const KEY = "sensorhub.token";
const NAME = "sensorhub.user";
const ROLES = ["operator"];

/** How long before its expiry a token is replaced: a tenth of its lifetime, at least 1 s, at most 30 s. */
export function refreshMargin(lifetimeMs) {
  return Math.min(30_000, Math.max(1_000, lifetimeMs / 10));
}

/** A JWT's payload (its claims), or null when the token is not a JWT. The signature is the server's business. */
export function claimsOf(token) {
  const payload = token?.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(base64), c => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

/** Whether `token` is expired or within its refresh margin at `now` (ms since 1970). A token without `exp` never is. */
export function needsRefresh(token, now = Date.now()) {
  const claims = claimsOf(token);
  if (typeof claims?.exp !== "number") return false;
  const expires = claims.exp * 1000;
  const issued = typeof claims.iat === "number" ? claims.iat * 1000 : typeof claims.nbf === "number" ? claims.nbf * 1000 : null;
  const margin = issued === null ? 30_000 : refreshMargin(expires - issued);
  return now >= expires - margin;
}

async function requestToken(name) {
  const response = await fetch("/api/dev/token", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, roles: ROLES }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} (dev tokens are only offered in Development)`);
  return (await response.json()).accessToken;
}

// One refresh at a time: the hub's reconnect and the server panel may both ask at the moment a token runs out.
let refreshing = null;

export const identity = {
  get token() { return sessionStorage.getItem(KEY); },
  get user() { return sessionStorage.getItem(NAME); },
  async signIn(name) {
    const token = await requestToken(name);
    sessionStorage.setItem(KEY, token);
    sessionStorage.setItem(NAME, name);
  },
  /**
   * The token to send now: none for a guest, the stored one while it has time left, else a new one for the same
   * name. A failed refresh throws: the connection attempt fails and is tried again at the reconnect pace.
   */
  async freshToken() {
    const token = this.token;
    const name = this.user;
    if (!token || !name || !needsRefresh(token)) return token;
    refreshing ??= requestToken(name)
      .then(fresh => {
        // Signed out, or in as someone else, while the request ran: that token is nobody's now.
        if (this.user !== name) return this.token;
        sessionStorage.setItem(KEY, fresh);
        return fresh;
      })
      .finally(() => { refreshing = null; });
    return refreshing;
  },
  signOut() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(NAME); },
};
