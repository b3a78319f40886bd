// Sensor patterns (MQTT's topic-filter syntax over the "/" levels of sensor ids, as SubscribeMany takes them) and how
// the overview's filter box maps to one. The server parses every pattern itself and is the judge of what is malformed
// (its invalid_argument message is what the page shows); the parser here mirrors SensorPattern.TryParse in
// SensorHub.Contracts only so that the page knows which listed sensors a pattern covers and where to list from.

const MAX_LENGTH = 128; // SensorPattern.MaxLength (= SensorId.MaxLength)
const CHARS = /^[A-Za-z0-9._\-/+#]*$/;

/**
 * Parses `text` as SensorPattern.TryParse does; null when it is malformed. `prefix` is what every matching id starts
 * with (the literal levels before the first wildcard, with the "/" after them when a "+" follows; the whole id without
 * wildcards), `matches(id)` says whether an id matches: "+" one level (an empty one too), "#" only last, and it
 * matches its parent level too ("a/#" matches "a").
 */
export function parsePattern(text) {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_LENGTH || text[0] === "/" || !CHARS.test(text)) return null;
  const levels = text.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.length > 1 && (level.includes("+") || level.includes("#"))) return null;
    if (level === "#" && i !== levels.length - 1) return null;
  }
  const multiLevel = levels.at(-1) === "#";
  const literal = multiLevel ? levels.slice(0, -1) : levels;
  const firstWildcard = literal.indexOf("+");
  const prefix = firstWildcard < 0 ? literal.join("/") : firstWildcard === 0 ? "" : `${literal.slice(0, firstWildcard).join("/")}/`;
  const matches = id => {
    const parts = id.split("/");
    if (parts.length < literal.length || (!multiLevel && parts.length !== literal.length)) return false;
    for (let i = 0; i < literal.length; i++) if (literal[i] !== "+" && literal[i] !== parts[i]) return false;
    return true;
  };
  return { text, prefix, matches };
}

/**
 * What the overview subscribes to and lists for the text in its filter box:
 * - empty: every sensor, pattern "#";
 * - with a "+" or "#": the text is the pattern, as the user wrote it (a malformed one is refused by the server);
 * - otherwise a plain id prefix, as the box always took ("plant-1/line-2/", "plant-1/li"): the pattern covers the
 *   levels the prefix completes ("plant-1/line-2/#", "plant-1/#"; "#" for "plant") and the page keeps the ids that
 *   start with the prefix. A prefix that ends inside a level thus streams its whole parent level at the overview's
 *   low rate and drops what it does not show; "/" at the end of a level narrows the stream to what is shown. A prefix
 *   no id can have ("/a", "a b") is sent as typed, to be refused by the server in the user's own words.
 * Returns { pattern, listPrefix (for ListSensors, null when nothing can be listed), accepts(id) }.
 */
export function overviewFilter(value) {
  const text = (value ?? "").trim();
  if (text === "") return { text, pattern: "#", listPrefix: "", accepts: () => true };
  if (text.includes("+") || text.includes("#")) {
    const parsed = parsePattern(text);
    return parsed
      ? { text, pattern: text, listPrefix: parsed.prefix, accepts: parsed.matches }
      : { text, pattern: text, listPrefix: null, accepts: () => false };
  }
  const pattern = `${text.slice(0, text.lastIndexOf("/") + 1)}#`;
  // A prefix no id can have ("/a", "a b"): sent as typed, so that the server's refusal names what the user wrote
  // rather than the pattern made from it ("/#").
  if (parsePattern(pattern) === null) return { text, pattern: text, listPrefix: null, accepts: () => false };
  return { text, pattern, listPrefix: text, accepts: id => id.startsWith(text) };
}
