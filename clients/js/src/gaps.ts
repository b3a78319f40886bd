/**
 * Why readings are missing from a subscription: the kinds of the .NET SDK's `SequenceGapCause`, plus `unknownJump`.
 * - `historyExpired`: at a (re)subscription's seam the server's history no longer held the readings asked for. Exact count.
 * - `dropped`: while live, the server dropped readings for a slow consumer and history no longer held them. Exact
 *   count. Never reported with `maxRate`, which skips readings on purpose.
 * - `serverRestart`: the server restarted (it ended the stream, answered `unknown_sensor`, or its `firstSequence` for
 *   the sensor is above the first missing sequence): the span is a jump between two numberings, `count` is `null`.
 * - `unknownJump`: a jump at a seam that could not be told apart (the `ListSensors` call that tells it failed): it is
 *   either of the two above; `count` is `null`. The .NET SDK reports these as `historyExpired`.
 */
export type GapCause = "historyExpired" | "dropped" | "serverRestart" | "unknownJump";

/** Readings a subscription will never deliver: every sequence from `fromSequence` to `toSequence`, both included. */
export interface SequenceGap {
  sensorId: string;
  /** The first missing sequence: the one after the last delivered (or the `fromSequence` asked for). */
  fromSequence: number;
  /** The last missing sequence: the one before the reading delivered next. */
  toSequence: number;
  cause: GapCause;
  /** Exactly `toSequence - fromSequence + 1` for `historyExpired` and `dropped`; `null` otherwise. */
  count: number | null;
}

/** Builds a gap with its count. */
export function gap(sensorId: string, fromSequence: number, toSequence: number, cause: GapCause): SequenceGap {
  const exact = cause === "historyExpired" || cause === "dropped";
  return { sensorId, fromSequence, toSequence, cause, count: exact ? toSequence - fromSequence + 1 : null };
}
