import type { SequenceGap } from "../gaps.js";
import { gap } from "../gaps.js";
import type { SensorPattern } from "../pattern.js";
import type { Reading, SensorInfo } from "../types.js";

/**
 * One subscription's position: the last sequence it delivered. It decides where a resubscription starts, drops what
 * was already delivered and names what can no longer be delivered (the .NET SDK's `SequenceTracker`, rule for rule).
 */
export class SequenceTracker {
  private last = 0;
  private expectedAtSeam: number | null = null;
  private serverRestarted = false;
  private unclassified: SequenceGap | null = null;

  constructor(
    private readonly sensorId: string,
    private readonly options: { fromSequence: number | null; maxRate: number | null },
    private readonly report: (gap: SequenceGap) => void,
  ) {}

  /** The last sequence delivered, or `null` before the first. */
  get lastSequence(): number | null {
    return this.last > 0 ? this.last : null;
  }

  /**
   * The options of the next `Subscribe` call: the consumer's at first, from the last delivered plus one after that
   * (also after a restart: a restarted server numbers above all it issued before, so nothing waits).
   */
  nextOptions(): { fromSequence: number | null; maxRate: number | null } {
    if (this.last > 0 && this.options.maxRate !== null) {
      // A paced subscription's readings are samples: it resumes live, and its jumps are on purpose.
      this.expectedAtSeam = null;
      return { fromSequence: null, maxRate: this.options.maxRate };
    }
    if (this.last > 0) {
      this.expectedAtSeam = this.last + 1;
      return { fromSequence: this.last + 1, maxRate: this.options.maxRate };
    }
    // fromSequence 0 means "whatever history holds": no particular reading is expected first.
    this.expectedAtSeam = this.options.fromSequence !== null && this.options.fromSequence >= 1 ? this.options.fromSequence : null;
    return { fromSequence: this.options.fromSequence, maxRate: this.options.maxRate };
  }

  /** The server ended the stream, or does not know the sensor: a jump at the next seam is between two numberings. */
  serverMayHaveRestarted(): void {
    this.serverRestarted = true;
  }

  /** A jump at a seam that nothing said was a restart, for the caller to classify and report before the reading. */
  takeUnclassifiedGap(): SequenceGap | null {
    const found = this.unclassified;
    this.unclassified = null;
    return found;
  }

  /** Whether to deliver `reading`; reports a gap before it where there is one. */
  accept(reading: Reading): boolean {
    const sequence = reading.sequence;
    if (this.last > 0 && sequence <= this.last) return false;
    if (this.expectedAtSeam !== null) {
      const seam = this.expectedAtSeam;
      this.expectedAtSeam = null;
      if (sequence < seam) return false;
      if (sequence > seam && this.serverRestarted) this.report(gap(this.sensorId, seam, sequence - 1, "serverRestart"));
      else if (sequence > seam) this.unclassified = gap(this.sensorId, seam, sequence - 1, "historyExpired");
    } else if (this.last > 0 && sequence > this.last + 1 && this.options.maxRate === null) {
      this.report(gap(this.sensorId, this.last + 1, sequence - 1, "dropped"));
    }
    this.serverRestarted = false;
    this.last = sequence;
    return true;
  }
}

interface Sensor {
  tracker: SequenceTracker;
  lastUsed: number;
  /** Listed before the first attempt, or while the tracker did not know every sensor: the next attempt starts it live. */
  startsLive: boolean;
}

/** At most this many `fromSequences` entries (`SubscribeManyOptions.MaxFromSequences`). */
export const MAX_FROM_SEQUENCES = 10_000;

/**
 * A `SubscribeMany` stream's positions: one `SequenceTracker` per sensor, and the knowledge of which matching sensors
 * existed, so that a sensor that appeared while the client was away resumes from its first reading (the .NET SDK's
 * `ManySequenceTracker`). At most `capacity` sensors are kept; past it the least recently delivering tenth is
 * forgotten, and until a listing fits again a sensor the tracker does not know resumes live.
 */
export class ManySequenceTracker {
  private readonly sensors = new Map<string, Sensor>();
  private clock = 0;
  private knowsEverySensor = false;
  private opened = false;
  private listingFindsNewSensors = false;
  private forgotDuringListing = false;

  constructor(
    private readonly pattern: SensorPattern | null,
    private readonly options: { maxRate: number | null; fromSequences: Record<string, number> | null },
    private readonly report: (gap: SequenceGap) => void,
    private readonly capacity = MAX_FROM_SEQUENCES,
  ) {
    for (const [sensorId, from] of Object.entries(options.fromSequences ?? {})) {
      if (!pattern || pattern.matches(sensorId)) this.add(sensorId, from, false);
    }
  }

  /** Only an unpaced stream lists: a paced one resumes every sensor live. */
  get wantsListing(): boolean {
    return this.options.maxRate === null;
  }

  get count(): number {
    return this.sensors.size;
  }

  /** The last sequence delivered for each sensor that delivered. */
  positions(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [id, sensor] of this.sensors) {
      const last = sensor.tracker.lastSequence;
      if (last !== null) result[id] = last;
    }
    return result;
  }

  beginListing(): void {
    this.listingFindsNewSensors = this.opened && this.knowsEverySensor;
    this.forgotDuringListing = false;
  }

  /** One sensor of the listing; false once more sensors matched than the tracker can hold. */
  listed(sensor: SensorInfo): boolean {
    if ((this.pattern && !this.pattern.matches(sensor.id)) || this.sensors.has(sensor.id)) return true;
    if (this.listingFindsNewSensors) this.add(sensor.id, 0, false);
    else this.add(sensor.id, sensor.lastSequence === 0 ? 0 : sensor.lastSequence + 1, true);
    return !this.forgotDuringListing;
  }

  endListing(complete: boolean): void {
    this.knowsEverySensor = complete && !this.forgotDuringListing;
  }

  /** The options of the next `SubscribeMany` call: each sensor's next position, and the caller's `maxRate`. */
  nextOptions(): { maxRate: number | null; fromSequences: Record<string, number> | null } {
    this.opened = true;
    let from: Record<string, number> | null = null;
    for (const [sensorId, sensor] of this.sensors) {
      if (sensor.startsLive) {
        sensor.startsLive = false;
        continue;
      }
      const sequence = sensor.tracker.nextOptions().fromSequence;
      if (sequence !== null) (from ??= {})[sensorId] = sequence;
    }
    return { maxRate: this.options.maxRate, fromSequences: from };
  }

  serverMayHaveRestarted(): void {
    for (const sensor of this.sensors.values()) sensor.tracker.serverMayHaveRestarted();
  }

  /** Whether to deliver `reading`, and a seam jump nothing said was a restart, for the caller to classify. */
  accept(reading: Reading): { keep: boolean; unclassified: SequenceGap | null } {
    const sensor = this.sensors.get(reading.sensorId) ?? this.add(reading.sensorId, null, false);
    if (!sensor.tracker.accept(reading)) return { keep: false, unclassified: null };
    sensor.lastUsed = ++this.clock;
    return { keep: true, unclassified: sensor.tracker.takeUnclassifiedGap() };
  }

  private add(sensorId: string, from: number | null, startsLive: boolean): Sensor {
    const sensor: Sensor = {
      tracker: new SequenceTracker(sensorId, { fromSequence: from, maxRate: this.options.maxRate }, this.report),
      lastUsed: ++this.clock,
      startsLive,
    };
    this.sensors.set(sensorId, sensor);
    if (this.sensors.size > this.capacity) this.forget();
    return sensor;
  }

  private forget(): void {
    const keep = Math.max(1, this.capacity - Math.max(1, Math.floor(this.capacity / 10)));
    const byAge = [...this.sensors.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [sensorId] of byAge.slice(0, this.sensors.size - keep)) this.sensors.delete(sensorId);
    this.knowsEverySensor = false;
    this.forgotDuringListing = true;
  }
}
