// Sign-in with a dev token (Development only). The token lives in sessionStorage: per tab, gone with it.
const KEY = "sensorhub.token";
const NAME = "sensorhub.user";

export const identity = {
  get token() { return sessionStorage.getItem(KEY); },
  get user() { return sessionStorage.getItem(NAME); },
  async signIn(name) {
    const response = await fetch("/api/dev/token", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, roles: ["operator"] }),
    });
    if (!response.ok) throw new Error(`sign-in failed: ${response.status} (dev tokens are only offered in Development)`);
    const { accessToken } = await response.json();
    sessionStorage.setItem(KEY, accessToken);
    sessionStorage.setItem(NAME, name);
  },
  signOut() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(NAME); },
};
