using SensorHub.Client;
using SensorHub.Client.Internal;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>
/// An SDK subscription across a server restart: the first server stops (its streams complete, its connections close),
/// and the client's reconnections reach a second server under the same URL, which starts with no sensors. Each test
/// runs servers of its own.
/// </summary>
public sealed class ClientRestartTests
{
    private const int BeforeRestart = 5;
    private const int AfterRestart = 3;

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SubscriptionWaitsForASensorThatTheRestartedServerDoesNotKnowYetAndReportsARestartNotACount(Protocol protocol)
    {
        await using var restart = await RestartScenario.StartAsync(protocol);

        await restart.StopFirstServerAsync();
        // The second server answers unknown_sensor until the device publishes: the SDK waits.
        await restart.Harness.WaitForLogAsync(
            ClientLogEvents.RetryingRefusal, "a resume refused with unknown_sensor and retried", e => e.Message.Contains(SensorHubErrors.UnknownSensor, StringComparison.Ordinal));
        await restart.AssertGoesOnFromTheSecondServerAfterARestartGapAsync();
        Assert.Contains(ConnectionChange.Reconnected, restart.Harness.Changes);
    }

    [Fact]
    public async Task ARestartThatTheServerAnnouncedIsReportedAsARestartNotAsTheDifferenceOfTwoNumberings()
    {
        await using var restart = await RestartScenario.StartAsync(Protocol.MessagePack);
        restart.Harness.HoldReconnects();

        // A stopping server completes every stream before it closes the connection.
        await restart.StopFirstServerAsync();
        await restart.Harness.WaitForLogAsync(
            ClientLogEvents.Resuming, "the stream's end seen as the server's", e => e.Message.Contains(nameof(Interruption.EndedByServer), StringComparison.Ordinal));
        await restart.Harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        // The device is back before the client: the second server knows the sensor, numbered from its own clock.
        var after = await restart.AssertGoesOnFromTheSecondServerAfterARestartGapAsync();
        Assert.True(after[0].Sequence - restart.Before[^1].Sequence > AfterRestart + 1, "The numbering jumped, as the test means it to.");
        Assert.Equal(1, restart.Harness.CountLogs(ClientLogEvents.RestartGap));
    }

    [Fact]
    public async Task ARestartThatTheServerDidNotAnnounceIsToldByWhereTheSensorsNumberingStarts()
    {
        await using var restart = await RestartScenario.StartAsync(Protocol.MessagePack);
        restart.Harness.HoldReconnects();

        // A crash: the connection is cut, no stream ends, and the device is back on the new server before the client.
        await restart.Harness.MoveToAsync(restart.Second);
        restart.Harness.Drop();
        await restart.Harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        await restart.AssertGoesOnFromTheSecondServerAfterARestartGapAsync();
    }

    [Fact]
    public async Task ReadingsThatHistoryLostWithinOneServerAreCountedExactly()
    {
        // No restart: a server that keeps 5 readings, and while the client is away 10 are published, 5 of them lost.
        await using var restart = await RestartScenario.StartAsync(
            Protocol.MessagePack, firstSettings: new Dictionary<string, string?> { ["SensorHub:Feeds:HistoryCapacity"] = "5" });
        restart.Harness.HoldReconnects();

        restart.Harness.Drop();
        await restart.Harness.WaitForChangeAsync(ConnectionChange.Reconnecting);
        var published = await restart.First.Engine.PublishAsync(restart.SensorId, 10);
        restart.Harness.ReleaseReconnects();
        await restart.ConsumerEndAsync();

        var gap = Assert.Single(restart.Gaps);
        Assert.Equal(new SequenceGap(restart.SensorId, published[0].Sequence, published[4].Sequence, SequenceGapCause.HistoryExpired), gap);
        Assert.Equal(5, gap.Count);
        Assert.Equal(published.Skip(5).Take(AfterRestart), restart.Received.Skip(BeforeRestart));
    }

    [Fact]
    public async Task SubscriptionEndsWithUnknownSensorOnceTheSensorHasBeenUnknownForLongerThanThePatience()
    {
        var patience = TimeSpan.FromMilliseconds(300);
        await using var restart = await RestartScenario.StartAsync(Protocol.MessagePack, options => options.UnknownSensorPatience = patience);

        await restart.StopFirstServerAsync();

        var error = await Assert.ThrowsAsync<SensorHubServerException>(() => restart.Consumer.WaitAsync(Timeouts.Default));
        Assert.Equal(SensorHubErrors.UnknownSensor, error.ErrorCode);
        Assert.True(error.IsRefusal);
        Assert.Equal(BeforeRestart, restart.Received.Count);
        Assert.True(restart.Harness.CountLogs(ClientLogEvents.RetryingRefusal) >= 1, "The refusal was retried before the SDK gave up.");
        Assert.Equal(1, restart.Harness.CountLogs(ClientLogEvents.RefusedPastPatience));
        Assert.Empty(restart.Gaps);
    }

    /// <summary>
    /// Two Kestrel servers, a sensor with <see cref="BeforeRestart"/> readings on the first, and an SDK subscription that
    /// has received them and will stop after <see cref="AfterRestart"/> more.
    /// </summary>
    private sealed class RestartScenario : IAsyncDisposable
    {
        private readonly List<Reading> _received = [];
        private readonly List<SequenceGap> _gaps = [];

        private RestartScenario(SensorHubApplication first, SensorHubApplication second)
        {
            First = first;
            Second = second;
        }

        public SensorHubApplication First { get; }

        public SensorHubApplication Second { get; }

        public string SensorId { get; } = Sensors.NewId();

        public List<Reading> Before { get; private set; } = [];

        public ClientHarness Harness { get; private set; } = null!;

        public Task Consumer { get; private set; } = Task.CompletedTask;

        public IReadOnlyList<Reading> Received
        {
            get
            {
                lock (_received)
                    return [.. _received];
            }
        }

        public IReadOnlyList<SequenceGap> Gaps
        {
            get
            {
                lock (_gaps)
                    return [.. _gaps];
            }
        }

        private CancellationTokenSource Cancel { get; } = new(Timeouts.Default);

        public static async Task<RestartScenario> StartAsync(
            Protocol protocol, Action<SensorHubClientOptions>? configure = null, IDictionary<string, string?>? firstSettings = null)
        {
            var scenario = new RestartScenario(
                new SensorHubApplication(Transport.Kestrel, firstSettings), new SensorHubApplication(Transport.Kestrel));
            try
            {
                await scenario.SubscribeAsync(protocol, configure);
            }
            catch
            {
                await scenario.DisposeAsync();
                throw;
            }
            return scenario;
        }

        private async Task SubscribeAsync(Protocol protocol, Action<SensorHubClientOptions>? configure)
        {
            Before = await First.Engine.PublishAsync(SensorId, BeforeRestart);
            Harness = await ClientHarness.StartAsync(First, protocol, configure: configure);
            var options = new SubscribeOptions { FromSequence = Before[0].Sequence };
            Consumer = Task.Run(async () =>
            {
                await foreach (var reading in Harness.Client.SubscribeAsync(SensorId, options, OnGap, Cancel.Token))
                {
                    lock (_received)
                    {
                        _received.Add(reading);
                        if (_received.Count == BeforeRestart + AfterRestart)
                            break;
                    }
                }
            });
            await Timeouts.WaitUntilAsync(() => Received.Count == BeforeRestart, Timeouts.Default, "the readings before the restart");
        }

        /// <summary>Waits for the subscription to end, and shows the client's log if it does not end well.</summary>
        public async Task ConsumerEndAsync()
        {
            try
            {
                await Consumer.WaitAsync(Timeouts.Default);
            }
#pragma warning disable CA1031 // Any way the subscription fails, the test fails with the client's log.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Assert.Fail($"The subscription did not end well: {ex.GetType().Name}: {ex.Message}\nThe client logged:\n{Harness.DescribeLog()}");
            }
        }

        /// <summary>
        /// The device publishes <see cref="AfterRestart"/> readings on the second server and the client is let back in:
        /// the subscription goes on with them, after exactly one gap, a restart without a count.
        /// </summary>
        public async Task<List<Reading>> AssertGoesOnFromTheSecondServerAfterARestartGapAsync()
        {
            var after = await Second.Engine.PublishAsync(SensorId, AfterRestart);
            Harness.ReleaseReconnects();
            await ConsumerEndAsync();

            Assert.Equal([.. Before.Select(r => r.Sequence), .. after.Select(r => r.Sequence)], Received.Select(r => r.Sequence));
            var gap = Assert.Single(Gaps);
            Assert.Equal(new SequenceGap(SensorId, Before[^1].Sequence + 1, after[0].Sequence - 1, SequenceGapCause.ServerRestart), gap);
            Assert.Null(gap.Count);
            return after;
        }

        /// <summary>Sends the client's next connections to the second server, then stops the first.</summary>
        public async Task StopFirstServerAsync()
        {
            await Harness.MoveToAsync(Second);
            await First.DisposeAsync().AsTask().WaitAsync(Timeouts.Default);
        }

        public async ValueTask DisposeAsync()
        {
            await Cancel.CancelAsync();
            if (Harness is not null)
                await Harness.DisposeAsync();
            await First.DisposeAsync();
            await Second.DisposeAsync();
            Cancel.Dispose();
        }

        private void OnGap(SequenceGap gap)
        {
            lock (_gaps)
                _gaps.Add(gap);
        }
    }
}
