// The bench's JavaScript subscribers: N connections of the official SignalR client (@microsoft/signalr under Node,
// WebSockets through the `ws` package), each with one stream, recording publish-to-receive latency.
//
//   node bench/js/loadgen.mjs '{"url":"http://127.0.0.1:PORT/hubs/sensors","connections":1000,"protocol":"json",
//     "method":"Subscribe","args":["bench/x",null],"token":null,"skipNegotiation":false,
//     "timestampFrequency":1000000000,"concurrency":32}'
//
// stdout carries only the contract's JSON lines (see README.md beside this file); SignalR's own log lines, Warning and
// above, go to stderr, so a driver must drain stderr too or a full pipe would block this process.
//
// Latency of a reading = now - value, where value is the publisher's Stopwatch.GetTimestamp() and now is
// process.hrtime.bigint(): both read CLOCK_MONOTONIC on Linux, so the two processes share a clock.
import { createInterface } from "node:readline";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import * as hdr from "hdr-histogram-js";

/** Latencies are recorded in microseconds, clamped into the histogram's range (1 µs .. 600 s). */
const LOWEST_US = 1;
const HIGHEST_US = 600_000_000;

/** How long `stop` waits for the connections to close before it exits anyway. */
const TEARDOWN_MS = 10_000;

/** SignalR log lines written to stderr at most; past that they are only counted (1,000 dropped connections log 1,000 lines). */
const LOG_LINE_LIMIT = 50;

const settings = readSettings(process.argv.slice(2));

// The pure JavaScript histogram: the WebAssembly one needs an asynchronous init and is no faster for single records.
const histogram = hdr.build({
  lowestDiscernibleValue: LOWEST_US,
  highestTrackableValue: HIGHEST_US,
  numberOfSignificantValueDigits: 3,
  bitBucketSize: 64,
  autoResize: false,
  useWebAssembly: false,
});

// Scale hrtime's nanoseconds to the publisher's ticks, and ticks to microseconds (both exactly 1 and 1e-3 at 1e9 Hz).
const ticksPerNanosecond = settings.timestampFrequency / 1e9;
const microsecondsPerTick = 1e6 / settings.timestampFrequency;

let recording = false;
let delivered = 0;
let missed = 0;
// Errors are not zeroed by `start`: a stream lost before it leaves the run one subscriber short, which the result must show.
let errors = 0;
let firstError = null;
let startedAt = null;
let cpuAtStart = null;
let cpuAtEnd = null;
// The recording window in the publisher's ticks (the machine's monotonic clock): `start FROM TO` sets it ahead of time,
// plain `start` opens it now until `stop`.
let windowFrom = -Infinity;
let windowTo = Infinity;
let closing = false;
let loggedLines = 0;
let droppedLines = 0;

const connections = [];
const subscriptions = [];

/**
 * One observer per stream, holding only the last sequence it saw: a jump in `sequence` is readings that subscriber
 * never received (the server dropped them for it), counted in `missed` while recording.
 */
function observerFor() {
  let last = -1;
  return {
    next(item) {
      const batch = Array.isArray(item);
      if (batch && item.length === 0) return;
      if (recording) {
        // One clock read per message; a batch's readings all arrived with it. Only what arrives inside the window counts.
        const now = Number(process.hrtime.bigint()) * ticksPerNanosecond;
        if (now >= windowFrom && now < windowTo) {
          markCpu(now);
          if (batch) {
            for (let i = 0; i < item.length; i++) {
              record((now - item[i].value) * microsecondsPerTick);
              if (last >= 0 && item[i].sequence > last + 1) missed += item[i].sequence - last - 1;
              last = item[i].sequence;
            }
            delivered += item.length;
            return;
          }
          record((now - item.value) * microsecondsPerTick);
          if (last >= 0 && item.sequence > last + 1) missed += item.sequence - last - 1;
          delivered++;
          last = item.sequence;
          return;
        }
        markCpu(now);
      }
      last = batch ? item[item.length - 1].sequence : item.sequence;
    },
    error(error) {
      if (!closing) noteError(error);
    },
    complete() {
      if (!closing) log("a stream completed before stop; its connection receives nothing more");
    },
  };
}

/**
 * The process's CPU at the window's two ends, read at the first moment this process sees past each (a message or a
 * timer): a process busy for seconds reads them late, but the window's length is the driver's, exactly.
 */
function markCpu(now) {
  if (cpuAtStart === null && now >= windowFrom) cpuAtStart = process.cpuUsage();
  if (cpuAtEnd === null && now >= windowTo && cpuAtStart !== null) cpuAtEnd = process.cpuUsage(cpuAtStart);
}

function record(microseconds) {
  // `!(x >= 1)` also catches NaN (a value that is not a number), which would corrupt the histogram's index.
  if (!(microseconds >= LOWEST_US)) microseconds = LOWEST_US;
  else if (microseconds > HIGHEST_US) microseconds = HIGHEST_US;
  histogram.recordValue(microseconds | 0);
}

function noteError(error) {
  errors++;
  if (firstError === null) firstError = error instanceof Error ? error.message : String(error);
}

/**
 * SignalR's client log, Warning and above, to stderr and capped, so that stdout stays the contract's. Once closing,
 * the client's complaints about connections stopped mid-start or mid-stream are the closing itself: not shown.
 */
const logger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Warning && !closing) log(`signalr ${signalR.LogLevel[level]}: ${message}`);
  },
};

function log(line) {
  if (loggedLines >= LOG_LINE_LIMIT) {
    droppedLines++;
    return;
  }
  loggedLines++;
  process.stderr.write(`loadgen: ${line}\n`);
}

function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

/** Exits once stdout has taken every line written before (a pipe may be asynchronous on some platforms). */
function exit(code) {
  if (droppedLines > 0) process.stderr.write(`loadgen: ${droppedLines} more log lines not shown\n`);
  process.stdout.write("", () => process.exit(code));
}

let failed = false;
function fail(error) {
  if (failed || closing) return;
  failed = true;
  emit({ event: "error", message: error instanceof Error ? error.message : String(error) });
  exit(1);
}

// After `stop` the result is out: whatever a closing connection throws then changes nothing.
process.on("uncaughtException", error => fail(error));
process.on("unhandledRejection", error => fail(error));

// One protocol instance for every connection: parsing is synchronous, so they never share it at the same time,
// and a thousand encoders and decoders would only cost memory.
const protocol = settings.protocol === "messagepack" ? new MessagePackHubProtocol() : new signalR.JsonHubProtocol();

function buildConnection() {
  const options = {
    transport: signalR.HttpTransportType.WebSockets,
    skipNegotiation: settings.skipNegotiation,
  };
  if (settings.token !== null) {
    // As the dashboard does. Under Node the client sends it as an Authorization header, on the negotiate request
    // and on the WebSocket upgrade (a browser puts it in the query string instead).
    const token = settings.token;
    options.accessTokenFactory = () => token;
  }
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(settings.url, options)
    .withHubProtocol(protocol)
    .configureLogging(logger)
    .build();
  // A heavy run keeps this process's event loop busy for seconds at a time, and its timers fire that late: the client
  // would take the server for dead (30 s by default) while messages from it wait to be read.
  connection.serverTimeoutInMilliseconds = 120_000;
  // A connection that drops errors its stream, which counts there; without a stream, count the drop itself.
  if (settings.method === null) connection.onclose(error => { if (!closing) noteError(error ?? "connection closed"); });
  return connection;
}

async function connectAll() {
  let next = 0;
  const worker = async () => {
    while (next < settings.connections && !closing) {
      const index = next++;
      const connection = buildConnection();
      connections.push(connection);
      try {
        await connection.start();
      } catch (error) {
        if (closing) return;
        throw new Error(`connection ${index + 1} of ${settings.connections} did not start: ${error?.message ?? error}`);
      }
      if (closing) return;
      if (settings.method !== null) {
        subscriptions.push(connection.stream(settings.method, ...settings.args).subscribe(observerFor()));
      }
    }
  };
  const workers = Math.min(settings.concurrency, settings.connections);
  await Promise.all(Array.from({ length: workers }, worker));
}

function start(from, to) {
  histogram.reset();
  delivered = 0;
  missed = 0;
  cpuAtStart = null;
  cpuAtEnd = null;
  const now = Number(process.hrtime.bigint()) * ticksPerNanosecond;
  windowFrom = from ?? now;
  windowTo = to ?? Infinity;
  startedAt = process.hrtime.bigint();
  recording = true;
  const ms = ticks => Math.max(0, (ticks - now) * microsecondsPerTick / 1000);
  markCpu(now);
  setTimeout(() => markCpu(Number(process.hrtime.bigint()) * ticksPerNanosecond), ms(windowFrom));
  if (Number.isFinite(windowTo)) setTimeout(() => markCpu(Number(process.hrtime.bigint()) * ticksPerNanosecond), ms(windowTo));
}

async function stop() {
  if (closing) return;
  recording = false;
  const windowed = Number.isFinite(windowTo);
  const seconds = windowed
    ? (windowTo - windowFrom) / settings.timestampFrequency
    : startedAt === null ? 0 : Number(process.hrtime.bigint() - startedAt) / 1e9;
  const cpu = cpuAtEnd ?? (cpuAtStart === null ? { user: 0, system: 0 } : process.cpuUsage(cpuAtStart));
  const empty = histogram.totalCount === 0;
  const percentile = p => (empty ? 0 : histogram.getValueAtPercentile(p) / 1000);
  emit({
    event: "result",
    delivered,
    missed,
    seconds,
    p50: percentile(50),
    p99: percentile(99),
    p999: percentile(99.9),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    errors,
    firstError,
    rssBytes: process.memoryUsage.rss(),
  });
  await close();
  exit(0);
}

/** Disposes every stream (the server's generators end), then stops every connection, all at once, for 10 s at most. */
async function close() {
  if (closing) return;
  closing = true;
  recording = false;
  for (const subscription of subscriptions) subscription.dispose();
  const stopped = Promise.all(connections.map(connection => connection.stop().catch(() => {})));
  let timer;
  const timeout = new Promise(resolve => { timer = setTimeout(resolve, TEARDOWN_MS); });
  await Promise.race([stopped, timeout]);
  clearTimeout(timer);
}

function readSettings(args) {
  const usage = "usage: node loadgen.mjs '<settings as JSON>' (see bench/js/README.md)";
  let raw;
  try {
    if (args.length !== 1) throw new Error(usage);
    raw = JSON.parse(args[0]);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(usage);
  } catch (error) {
    emit({ event: "error", message: error instanceof SyntaxError ? `settings are not JSON: ${error.message}` : error.message });
    process.exit(1);
  }
  const problems = [];
  const positiveInteger = (name, fallback) => {
    const value = raw[name] ?? fallback;
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a positive integer`);
    return value;
  };
  const result = {
    url: raw.url,
    connections: positiveInteger("connections"),
    protocol: raw.protocol ?? "json",
    method: raw.method ?? null,
    args: raw.args ?? [],
    token: raw.token ?? null,
    skipNegotiation: raw.skipNegotiation ?? false,
    timestampFrequency: raw.timestampFrequency ?? 1e9,
    concurrency: positiveInteger("concurrency", 32),
  };
  if (typeof result.url !== "string" || !/^https?:\/\//.test(result.url)) problems.push("url must be an http(s) URL");
  if (result.protocol !== "json" && result.protocol !== "messagepack") problems.push('protocol must be "json" or "messagepack"');
  if (result.method !== null && (typeof result.method !== "string" || result.method === "")) problems.push("method must be a hub method name or null");
  if (!Array.isArray(result.args)) problems.push("args must be an array");
  if (result.token !== null && typeof result.token !== "string") problems.push("token must be a string or null");
  if (typeof result.skipNegotiation !== "boolean") problems.push("skipNegotiation must be true or false");
  if (typeof result.timestampFrequency !== "number" || !(result.timestampFrequency > 0)) problems.push("timestampFrequency must be a positive number");
  if (problems.length > 0) {
    emit({ event: "error", message: `bad settings: ${problems.join("; ")}` });
    process.exit(1);
  }
  return result;
}

// Commands are read from the start, so that a driver that dies (stdin closes) while connections open stops this too.
const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", line => {
  const command = line.trim();
  const parts = command.split(/\s+/);
  if (parts[0] === "start" && parts.length === 3) start(Number(parts[1]), Number(parts[2]));
  else if (command === "start") start();
  else if (command === "stop") stop().catch(fail);
  else if (command !== "") log(`unknown command ignored: ${command}`);
});
input.on("close", () => {
  if (closing) return;
  close().then(() => exit(0), () => exit(0));
});

try {
  await connectAll();
  if (!closing) emit({ event: "ready", connections: connections.length });
} catch (error) {
  fail(error);
}
