/** The longest sensor id and pattern: 128 characters. */
export const MAX_SENSOR_ID_LENGTH = 128;

/**
 * A parsed `SubscribeMany` pattern: MQTT's topic-filter syntax over the `/` levels of sensor ids, with the server's
 * rules (`SensorPattern` in SensorHub.Contracts). `+` matches exactly one level, `#` (last only) a level and all below.
 */
export interface SensorPattern {
  /** The pattern as given. */
  readonly text: string;
  /** The literal start every matching id has (what `ListSensors` can be asked with): "" where the first level is a wildcard. */
  readonly prefix: string;
  /** Whether it has `+` or `#`. */
  readonly hasWildcards: boolean;
  /** Whether `sensorId` matches. */
  matches(sensorId: string): boolean;
}

/** Parses a pattern; `{ problem }` names what is wrong in the server's words (`pattern 'x' <problem>.`). */
export function parsePattern(text: string): { pattern: SensorPattern; problem?: undefined } | { pattern?: undefined; problem: string } {
  if (text === null || text === undefined) return { problem: "is required" };
  if (text.length === 0) return { problem: "is empty" };
  if (text.length > MAX_SENSOR_ID_LENGTH) return { problem: `is ${text.length} characters long; at most ${MAX_SENSOR_ID_LENGTH} are allowed` };
  if (text[0] === "/") return { problem: "starts with '/': sensor ids have no empty first level" };
  for (const c of text) {
    if (!/^[A-Za-z0-9._\-/+#]$/.test(c)) {
      const code = c.codePointAt(0) ?? 0;
      const shown = code < 0x20 || code === 0x7f || /\s/.test(c) ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}` : `'${c}'`;
      return { problem: `contains ${shown}; only ASCII letters, digits, . _ - / and the wildcards + and # are allowed` };
    }
  }
  const levels = text.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.length > 1 && (level.includes("+") || level.includes("#"))) return { problem: `has a wildcard inside the level '${level}'; + and # must stand for a whole level` };
    if (level === "#" && i !== levels.length - 1) return { problem: "has '#' before its last level; '#' may only be the last level" };
  }
  const multiLevel = levels[levels.length - 1] === "#";
  const literal = multiLevel ? levels.slice(0, -1) : levels;
  const firstWildcard = literal.indexOf("+");
  const prefix = firstWildcard < 0 ? literal.join("/") : firstWildcard === 0 ? "" : `${literal.slice(0, firstWildcard).join("/")}/`;
  const matches = (sensorId: string): boolean => {
    const parts = sensorId.split("/");
    for (let i = 0; i < literal.length; i++) {
      if (i >= parts.length) return false;
      if (literal[i] !== "+" && literal[i] !== parts[i]) return false;
    }
    return parts.length === literal.length || (multiLevel && parts.length > literal.length);
  };
  return { pattern: { text, prefix, hasWildcards: multiLevel || literal.includes("+"), matches } };
}
