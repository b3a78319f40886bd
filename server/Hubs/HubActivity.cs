using System.Diagnostics.Metrics;

namespace SensorHub.Server.Hubs;

/// <summary>
/// What the hub has open now: connections and server-to-client streams. The same counts are published as the
/// <see cref="MeterName"/> meter's up-down counters, so an OpenTelemetry exporter (or <c>dotnet-counters</c>) sees
/// each change as it happens.
/// </summary>
public sealed class HubActivity
{
    /// <summary>The name of SensorHub's meter.</summary>
    public const string MeterName = "SensorHub";

    /// <summary>Connections open now; +1 when a connection opens, -1 when it closes.</summary>
    public const string ConnectionsInstrument = "sensorhub.hub.connections";

    /// <summary>Stream generators running now; -1 is recorded once the generator's <c>finally</c> has run.</summary>
    public const string ActiveStreamsInstrument = "sensorhub.hub.active_streams";

    private readonly UpDownCounter<long> _connectionsCounter;
    private readonly UpDownCounter<long> _streamsCounter;
    private long _connections;
    private long _activeStreams;

    public HubActivity(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _connectionsCounter = meter.CreateUpDownCounter<long>(ConnectionsInstrument, "{connection}", "Hub connections open now.");
        _streamsCounter = meter.CreateUpDownCounter<long>(ActiveStreamsInstrument, "{stream}", "Server-to-client stream generators running now.");
    }

    /// <summary>Hub connections open now.</summary>
    public long Connections => Volatile.Read(ref _connections);

    /// <summary>Server-to-client stream generators running now.</summary>
    public long ActiveStreams => Volatile.Read(ref _activeStreams);

    internal void ConnectionOpened() => Change(ref _connections, _connectionsCounter, 1);

    internal void ConnectionClosed() => Change(ref _connections, _connectionsCounter, -1);

    internal void StreamStarted() => Change(ref _activeStreams, _streamsCounter, 1);

    internal void StreamEnded() => Change(ref _activeStreams, _streamsCounter, -1);

    private static void Change(ref long count, UpDownCounter<long> counter, int delta)
    {
        Interlocked.Add(ref count, delta);
        counter.Add(delta);
    }
}
