using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Hubs;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The SensorHub meter reports connections and streams as they open and close, and a stream's -1 comes only
/// after its generator's finally has released the subscription (the benchmarks time cancellation by it).
/// </summary>
public sealed class HubMetricsTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [InlineData(Protocol.Json)]
    [InlineData(Protocol.MessagePack)]
    public async Task MeterCountsAStreamFromItsStartToItsFinally(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        using var recorder = new HubMeterRecorder(app, () => Sensors.SubscribersOf(app, sensorId));

        await using (var connection = await app.ConnectAsync(protocol))
        {
            using var cts = new CancellationTokenSource(Timeouts.Default);
            var reader = Task.Run(async () =>
            {
                await foreach (var _ in connection.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, null, cts.Token)) { }
            }, CancellationToken.None);
            await SubscribeTests.WaitForSubscriberAsync(app, sensorId);
            Assert.Equal([1], recorder.Streams.Select(m => m.Delta));

            await cts.CancelAsync();
            await Timeouts.WaitUntilAsync(() => recorder.Streams.Count == 2, Timeouts.GeneratorEnd, "the meter recorded the stream's end");
            var ended = recorder.Streams.Last();
            Assert.Equal(-1, ended.Delta);
            Assert.Equal(0, ended.SubscribersThen);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.WaitAsync(Timeouts.Default));
            Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        }

        await Timeouts.WaitUntilAsync(() => recorder.Connections.Sum() == 0 && recorder.Connections.Count == 2, Timeouts.Default,
            "the meter recorded the connection's open and close");
        Assert.Equal([1, -1], recorder.Connections);
    }

    /// <summary>Listens to one application's SensorHub meter only: other tests' servers run in parallel under the same meter name.</summary>
    private sealed class HubMeterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(long Delta, int SubscribersThen)> _streams = new();
        private readonly ConcurrentQueue<long> _connections = new();

        public HubMeterRecorder(SensorHubApplication app, Func<int> subscribers)
        {
            var factory = app.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SensorHub.Server.Telemetry.SensorHubTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, delta, _, _) =>
            {
                if (instrument.Name == HubActivity.ActiveStreamsInstrument)
                    _streams.Enqueue((delta, subscribers()));
                else if (instrument.Name == HubActivity.ConnectionsInstrument)
                    _connections.Enqueue(delta);
            });
            _listener.Start();
        }

        public List<(long Delta, int SubscribersThen)> Streams => [.. _streams];

        public List<long> Connections => [.. _connections];

        public void Dispose() => _listener.Dispose();
    }
}
