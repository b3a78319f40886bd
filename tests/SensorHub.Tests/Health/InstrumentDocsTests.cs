using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Telemetry;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Health;

/// <summary>
/// docs/operations.md's instrument table is what the server publishes: every instrument it names exists on the
/// SensorHub meter with that kind and unit, measurements under a load carry only the attributes it lists, every
/// instrument the server creates is in it, and the Grafana dashboard queries only series those instruments make.
/// </summary>
/// <remarks>
/// <see cref="EveryDocumentedInstrumentIsOneTheServerPublishesAndNoneIsMissing"/> needs the instruments of issue 15's
/// metrics-feeds and metrics-uploads branches: it fails on a branch without them, by naming what is missing.
/// </remarks>
public sealed partial class InstrumentDocsTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task EveryDocumentedInstrumentIsOneTheServerPublishesAndNoneIsMissing()
    {
        var documented = OperationsDoc.Instruments().ToDictionary(i => i.Name, StringComparer.Ordinal);
        Assert.True(documented.Count >= 20, $"Only {documented.Count} rows read from the table.");
        // On Redis, where every instrument exists: the Redis ones only there.
        await using var nodes = new RedisNodes(_redis);
        var node = nodes.StartNode();
        using var recorder = new Recorder(node);

        await LoadAsync(node);
        recorder.CollectObservables();

        var published = recorder.Instruments;
        var missing = documented.Keys.Except(published.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var undocumented = published.Keys.Except(documented.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "Documented, but the server publishes no such instrument: " + string.Join(", ", missing));
        Assert.True(undocumented.Count == 0, "Published, but not in docs/operations.md: " + string.Join(", ", undocumented));
        foreach (var (name, instrument) in published)
        {
            var row = documented[name];
            Assert.True(row.Kind == KindOf(instrument), $"{name} is documented as a {row.Kind}; the server's is a {KindOf(instrument)}.");
            Assert.True(row.Unit == instrument.Unit, $"{name} is documented in {row.Unit}; the server's unit is {instrument.Unit}.");
            Assert.False(string.IsNullOrWhiteSpace(instrument.Description), $"{name} has no description.");
        }
        foreach (var (name, tags) in recorder.TagsSeen)
        {
            var extra = tags.Except(documented[name].Attributes, StringComparer.Ordinal).ToList();
            Assert.True(extra.Count == 0, $"{name} was measured with attributes the table does not list: {string.Join(", ", extra)}.");
        }
        // The load reached the hot instruments, so their attributes were really looked at.
        Assert.Contains(SensorHubTelemetry.SensorKind, recorder.TagsSeen.GetValueOrDefault("sensorhub.readings.published") ?? []);
        Assert.Contains(SensorHubTelemetry.RpcMethod, recorder.TagsSeen.GetValueOrDefault("sensorhub.streams.active") ?? []);
    }

    [Fact]
    public void TheGrafanaDashboardQueriesOnlySeriesOfDocumentedInstruments()
    {
        var series = OperationsDoc.Instruments().SelectMany(i => i.PrometheusNames).ToHashSet(StringComparer.Ordinal);
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(OperationsDoc.RepositoryRoot, "docs", "grafana-dashboard.json")));
        var root = dashboard.RootElement;
        Assert.InRange(root.GetProperty("schemaVersion").GetInt32(), 36, 41);
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");

        var queried = root.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => SeriesName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);
        var unknown = queried.Except(series, StringComparer.Ordinal).ToList();
        Assert.True(unknown.Count == 0, "The dashboard queries series no documented instrument makes: " + string.Join(", ", unknown));
        // The main instruments each have a panel.
        Assert.Superset(
            new HashSet<string>
            {
                "sensorhub_connections_active", "sensorhub_streams_active", "sensorhub_readings_published_total",
                "sensorhub_readings_delivered_total", "sensorhub_readings_dropped_total", "sensorhub_refusals_total",
                "sensorhub_stream_duration_seconds_bucket", "sensorhub_upload_bytes_received_bytes_total",
                "sensorhub_redis_duration_seconds_bucket", "sensorhub_redis_pubsub_lag_seconds_bucket",
            },
            queried);
    }

    /// <summary>A subscription that receives readings, a refusal, an upload and a session: the instruments' sources move.</summary>
    private static async Task LoadAsync(SensorHubApplication node)
    {
        var sensorId = Sensors.NewId("docs");
        await node.Engine.PublishAsync(sensorId, 3);
        await using var connection = await node.ConnectAsync(Protocol.MessagePack);
        var hub = connection.Hub;
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var received = 0;
        await foreach (var _ in hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, new SubscribeOptions { FromSequence = 0 }, cts.Token))
        {
            if (++received == 3)
                break;
        }
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<UploadStatus>(SensorHubMethods.GetUploadStatus, "unknown", cts.Token));

        var file = UploadStreams.RandomBytes(2048);
        var upload = await hub.BeginUploadAsync(new UploadRequest { Name = "docs.bin", ContentType = "application/octet-stream", TotalBytes = file.Length });
        Assert.True((await hub.UploadAsync(upload.UploadId, 0, UploadStreams.Chunks(file, 1024)).WaitAsync(Timeouts.Default)).Complete);

        var session = await hub.InvokeAsync<SessionInfo>(
            SensorHubMethods.CreateSession, new CreateSessionRequest { Title = "Docs", SensorIds = [sensorId] }, cts.Token);
        await foreach (var _ in hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, session.Id, cts.Token))
            break;
        await cts.CancelAsync();
    }

    private static string KindOf(Instrument instrument)
    {
        var name = instrument.GetType().Name;
        return name[..name.IndexOf('`', StringComparison.Ordinal)];
    }

    /// <summary>A series in a query: a name followed by its label matchers (every query of the dashboard has some), not a label's name.</summary>
    [GeneratedRegex(@"\bsensorhub_[a-z0-9_]+(?=\{)")]
    private static partial Regex SeriesName();

    /// <summary>Listens to one application's SensorHub meter only: other tests' servers run in parallel under the same name.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, Instrument> _instruments = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _tags = new(StringComparer.Ordinal);

        public Recorder(SensorHubApplication app)
        {
            var factory = app.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name != SensorHubTelemetry.MeterName || !ReferenceEquals(instrument.Meter.Scope, factory))
                    return;
                _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Seen(instrument, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Seen(instrument, tags));
            _listener.SetMeasurementEventCallback<int>((instrument, _, tags, _) => Seen(instrument, tags));
            // Instruments created before this get published to it here.
            _listener.Start();
        }

        public IReadOnlyDictionary<string, Instrument> Instruments => _instruments;

        public IReadOnlyDictionary<string, string[]> TagsSeen => _tags.ToDictionary(p => p.Key, p => p.Value.Keys.ToArray(), StringComparer.Ordinal);

        public void CollectObservables() => _listener.RecordObservableInstruments();

        private void Seen(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var seen = _tags.GetOrAdd(instrument.Name, _ => new(StringComparer.Ordinal));
            foreach (var tag in tags)
                seen[tag.Key] = true;
        }

        public void Dispose() => _listener.Dispose();
    }
}
