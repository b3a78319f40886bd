namespace SensorHub.Bench.Serving;

/// <summary>Which server a <c>serve</c> process hosts.</summary>
internal enum ServerKind
{
    SensorHub,
    Baseline,
}

/// <summary>
/// The routes a <c>serve</c> process adds beside the hub, for the driver only: the publisher runs inside the server
/// (as a device's readings would arrive there), and the server measures itself.
/// </summary>
internal static class ControlRoutes
{
    public const string Sensors = "/bench/sensors";
    public const string PublisherStart = "/bench/publisher/start";
    public const string PublisherStop = "/bench/publisher/stop";
    public const string Sample = "/bench/sample";
    public const string PeaksReset = "/bench/peaks/reset";
    public const string StreamEnds = "/bench/stream-ends";
    public const string StreamEndsReset = "/bench/stream-ends/reset";
}

/// <summary>
/// Starts the in-server publisher. <paramref name="RatePerSecond"/> 0 means as fast as it goes. It stops by itself after
/// <paramref name="StopAfterSeconds"/>: a load generator swamped by a heavy run cannot then keep it going. With
/// <paramref name="SensorIds"/> it publishes to those sensors in turn instead of <paramref name="SensorId"/> alone, the
/// rate being over all of them (the many-sensor scenario).
/// </summary>
internal sealed record PublisherStart(string SensorId, double RatePerSecond, bool Group, double StopAfterSeconds, string[]? SensorIds = null);

internal sealed record PublisherStopped(long Published);

internal sealed record SensorRegistration(string SensorId);

/// <summary>
/// The server process measured by itself. Peaks are sampled every few milliseconds since the last reset; the heap
/// is after a forced, compacting collection when the sample asked for one. <paramref name="Timestamp"/> is the server's
/// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when it took the sample, so that CPU time is divided by the
/// server's own interval, not by the driver's (whose calls may wait when it is swamped).
/// </summary>
internal sealed record ServerSample(
    long Timestamp,
    long ActiveStreams,
    double CpuSeconds,
    long WorkingSetBytes,
    long HeapBytes,
    long PeakWorkingSetBytes,
    long PeakHeapBytes);
