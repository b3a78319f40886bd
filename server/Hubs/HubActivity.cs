using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The hub's connections and server-to-client streams: how many are open now (for <c>/api/stats</c> and the
/// <see cref="SensorHubTelemetry.MeterName"/> meter's up-down counters, which an exporter sees change as it happens),
/// how long each stream lived, and how long a cancelled stream took to clean up. Called once per connection and once
/// at each end of a stream, never per item.
/// </summary>
public sealed class HubActivity
{
    /// <summary>Connections open now, by <see cref="SensorHubTelemetry.HubProtocol"/>; replaces <c>sensorhub.hub.connections</c>.</summary>
    public const string ConnectionsInstrument = "sensorhub.connections.active";

    /// <summary>Server-to-client streams running now, by <see cref="SensorHubTelemetry.RpcMethod"/>; -1 once the generator's <c>finally</c> has run. Replaces <c>sensorhub.hub.active_streams</c>.</summary>
    public const string ActiveStreamsInstrument = "sensorhub.streams.active";

    /// <summary>How long server-to-client streams lived (seconds), from the call to the end of the generator's <c>finally</c>, by <see cref="SensorHubTelemetry.RpcMethod"/>.</summary>
    public const string StreamDurationInstrument = "sensorhub.stream.duration";

    /// <summary>From a stream's cancellation (client cancel, connection gone) to the end of its generator's <c>finally</c> (seconds), by <see cref="SensorHubTelemetry.RpcMethod"/>.</summary>
    public const string StreamCleanupInstrument = "sensorhub.stream.cleanup.duration";

    /// <summary>The protocol tag when the connection's protocol cannot be told.</summary>
    public const string UnknownProtocol = "unknown";

    // Streams live from milliseconds (a refused replay) to days (a dashboard left open).
    private static readonly double[] s_streamBuckets = [0.01, 0.1, 1, 10, 60, 300, 900, 3_600, 14_400, 86_400];

    // A generator's finally releases a subscription: microseconds normally, longer when it must wait for a store.
    private static readonly double[] s_cleanupBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

    private readonly UpDownCounter<long> _connectionsCounter;
    private readonly UpDownCounter<long> _streamsCounter;
    private readonly Histogram<double> _streamDuration;
    private readonly Histogram<double> _cleanupDuration;
    private long _connections;
    private long _activeStreams;

    public HubActivity(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _connectionsCounter = meter.CreateUpDownCounter<long>(ConnectionsInstrument, "{connection}", "Hub connections open now, by hub protocol.");
        _streamsCounter = meter.CreateUpDownCounter<long>(ActiveStreamsInstrument, "{stream}", "Server-to-client streams running now, by hub method.");
        _streamDuration = meter.CreateHistogram(StreamDurationInstrument, "s", "How long server-to-client streams lived, by hub method.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_streamBuckets });
        _cleanupDuration = meter.CreateHistogram(StreamCleanupInstrument, "s", "From a stream's cancellation to the end of its generator's finally, by hub method.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_cleanupBuckets });
    }

    /// <summary>Hub connections open now.</summary>
    public long Connections => Volatile.Read(ref _connections);

    /// <summary>Server-to-client stream generators running now.</summary>
    public long ActiveStreams => Volatile.Read(ref _activeStreams);

    /// <summary>
    /// The hub protocol of a connection: <c>messagepack</c> or <c>json</c>, told from the transfer format SignalR
    /// sets on the connection once the handshake chose its protocol (binary or text). SensorHub registers exactly these
    /// two protocols, one of each format, which is what makes the format a sound stand-in for the name (SignalR
    /// does not expose a connection's protocol to hub filters).
    /// </summary>
    public static string ProtocolOf(HubCallerContext context) =>
        context.Features.Get<ITransferFormatFeature>()?.ActiveFormat switch
        {
            TransferFormat.Binary => "messagepack",
            TransferFormat.Text => "json",
            _ => UnknownProtocol,
        };

    internal void ConnectionOpened(HubCallerContext context) => Change(ref _connections, _connectionsCounter, 1, SensorHubTelemetry.HubProtocol, ProtocolOf(context));

    internal void ConnectionClosed(HubCallerContext context) => Change(ref _connections, _connectionsCounter, -1, SensorHubTelemetry.HubProtocol, ProtocolOf(context));

    /// <summary>Counts a stream of <paramref name="method"/> as running; returns its start (a <see cref="Stopwatch"/> timestamp).</summary>
    internal long StreamStarted(string method)
    {
        Change(ref _activeStreams, _streamsCounter, 1, SensorHubTelemetry.RpcMethod, method);
        return Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Counts a stream as ended once its generator's <c>finally</c> has run, and records how long it lived and, when
    /// it was cancelled, how long its clean-up took.
    /// </summary>
    /// <param name="method">The hub method.</param>
    /// <param name="started">From <see cref="StreamStarted"/>.</param>
    /// <param name="cancelled">When its token was cancelled (a <see cref="Stopwatch"/> timestamp); 0: it was not.</param>
    internal void StreamEnded(string method, long started, long cancelled)
    {
        var tag = new KeyValuePair<string, object?>(SensorHubTelemetry.RpcMethod, method);
        Change(ref _activeStreams, _streamsCounter, -1, SensorHubTelemetry.RpcMethod, method);
        var now = Stopwatch.GetTimestamp();
        _streamDuration.Record(Stopwatch.GetElapsedTime(started, now).TotalSeconds, tag);
        if (cancelled != 0)
            _cleanupDuration.Record(Stopwatch.GetElapsedTime(cancelled, now).TotalSeconds, tag);
    }

    /// <summary>
    /// Records 0 for each protocol and each server-to-client stream method, so that an exporter shows their series at
    /// 0 from the start: a series exists only once a measurement came, and a dashboard (or an <c>absent()</c> alert)
    /// would otherwise not see a node that has had no connection yet.
    /// </summary>
    internal void RecordZeros()
    {
        foreach (var protocol in (string[])["json", "messagepack"])
            _connectionsCounter.Add(0, new KeyValuePair<string, object?>(SensorHubTelemetry.HubProtocol, protocol));
        foreach (var method in typeof(SensorsHub).GetMethods().Where(m => HubStreams.ServerStreamItemType(m) is not null))
            _streamsCounter.Add(0, new KeyValuePair<string, object?>(SensorHubTelemetry.RpcMethod, method.Name));
    }

    private static void Change(ref long count, UpDownCounter<long> counter, int delta, string tagName, string tagValue)
    {
        Interlocked.Add(ref count, delta);
        counter.Add(delta, new KeyValuePair<string, object?>(tagName, tagValue));
    }
}
