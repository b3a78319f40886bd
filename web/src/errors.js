// The codes of server errors (docs/contract.md, "Errors"). Every error the server raises on purpose is a HubException whose
// message starts with "[code] "; SignalR puts its own words in front ("… HubException: [code] text"). The dashboard
// decides by code, never by the English text, which may change. The rule is SensorHubErrors.CodeOf's in
// SensorHub.Contracts: the bracketed code at the very start of the message, or else right after its first
// "HubException: ". An error without a code is not a refusal: a dropped connection, or a fault of the server's.

const MARKER = "HubException: ";
const CODE = /^[a-z0-9_]{1,64}$/;

/** The codes the dashboard acts on; every other code is a refusal to show. */
export const Codes = Object.freeze({
  fellBehind: "fell_behind",
  // The node cannot reach its backend (Redis) for now: not a refusal of the call; resume, on another node if any.
  backendUnavailable: "backend_unavailable",
  uploadHasWriter: "upload_has_writer",
  uploadOffsetMismatch: "upload_offset_mismatch",
});

const messageOf = error => (typeof error === "string" ? error : String(error?.message ?? error ?? ""));

/** The code that starts at `start`, with where the text after it begins; null when there is none. */
function codeAt(message, start) {
  if (message[start] !== "[") return null;
  const end = message.indexOf("]", start + 1);
  if (end < 0) return null;
  const code = message.slice(start + 1, end);
  return CODE.test(code) ? { code, text: message.slice(end + 1).trimStart() } : null;
}

function parse(error) {
  const message = messageOf(error);
  const marker = message.indexOf(MARKER);
  return codeAt(message, 0) ?? (marker < 0 ? null : codeAt(message, marker + MARKER.length)) ?? { code: null, text: message };
}

/** The error's code, or null when it carries none. */
export const codeOf = error => parse(error).code;

/** What to show of an error: the server's own words after the code, without SignalR's in front; others as they are. */
export const textOf = error => parse(error).text;
