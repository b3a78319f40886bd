using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Feeds;

/// <summary>The hosted service that sweeps idle sensors: its pace, its timeout, a zero that keeps everything, and a failing sweep.</summary>
public sealed class IdleSensorSweeperTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_idle = TimeSpan.FromHours(1);
    private readonly TimerCountingTime _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task SweepsEveryIntervalRemovesAnIdleDeviceSensorAndOutlivesAFailedSweep()
    {
        using var harness = new EngineHarness(time: _time);
        var engine = new SweepRecorder(harness.Engine) { FailFirst = true };
        await harness.Engine.PublishAsync("d/1", 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        using var sweeper = Sweeper(engine, s_idle);
        await sweeper.StartAsync(CancellationToken.None);
        // The service runs on a thread of its own: the clock may move only once its timer exists.
        await Timeouts.WaitUntilAsync(() => _time.Timers > 0, Timeouts.Default, "the sweeper's timer");

        // Sweeps at 10 (which fails), 20, ..., 50 minutes: the sensor has been quiet for less than an hour.
        for (var sweep = 1; sweep <= 5; sweep++)
            await AdvanceToSweepAsync(engine, sweep);
        var beforeTheHour = await harness.Engine.FindSensorAsync("d/1", CancellationToken.None);
        await AdvanceToSweepAsync(engine, 6);
        await sweeper.StopAsync(CancellationToken.None);

        Assert.NotNull(beforeTheHour);
        Assert.Null(await harness.Engine.FindSensorAsync("d/1", CancellationToken.None));
        Assert.All(engine.IdleFor, idleFor => Assert.Equal(s_idle, idleFor));
        Assert.False(sweeper.ExecuteTask!.IsFaulted);
    }

    [Fact]
    public async Task AZeroTimeoutKeepsEverySensorAndNeverSweeps()
    {
        using var harness = new EngineHarness(time: _time);
        var engine = new SweepRecorder(harness.Engine);
        await harness.Engine.PublishAsync("d/1", 1, _time.GetUtcNow().UtcDateTime, SensorRegistration.ByPublisher("alice"), CancellationToken.None);
        using var sweeper = Sweeper(engine, TimeSpan.Zero);

        await sweeper.StartAsync(CancellationToken.None);
        await sweeper.ExecuteTask!.WaitAsync(Timeouts.Default);
        _time.Advance(TimeSpan.FromDays(365));

        Assert.Empty(engine.IdleFor);
        Assert.NotNull(await harness.Engine.FindSensorAsync("d/1", CancellationToken.None));
    }

    private IdleSensorSweeper Sweeper(IFeedEngine engine, TimeSpan idle) => new(
        engine,
        Microsoft.Extensions.Options.Options.Create(new FeedOptions { SensorIdleTimeout = idle, IdleSweepInterval = s_interval }),
        _time,
        NullLogger<IdleSensorSweeper>.Instance);

    /// <summary>Moves the clock to the next sweep once the one before has run, and waits for it to run (or fail).</summary>
    private async Task AdvanceToSweepAsync(SweepRecorder engine, int sweep)
    {
        _time.Advance(s_interval);
        await Timeouts.WaitUntilAsync(() => engine.Done >= sweep, Timeouts.Default, $"sweep {sweep}");
    }

    /// <summary>A fake clock that counts the timers made on it.</summary>
    private sealed class TimerCountingTime(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    /// <summary>The engine, recording each sweep it is asked for; the first one fails when asked to.</summary>
    private sealed class SweepRecorder(IFeedEngine inner) : IFeedEngine
    {
        private int _done;

        public bool FailFirst { get; init; }

        public List<TimeSpan> IdleFor { get; } = [];

        public int Done => Volatile.Read(ref _done);

        public async ValueTask<int> RemoveIdleSensorsAsync(TimeSpan idleFor, CancellationToken cancellationToken)
        {
            try
            {
                lock (IdleFor)
                    IdleFor.Add(idleFor);
                if (FailFirst && IdleFor.Count == 1)
                    throw new IOException("The back end is away.");
                return await inner.RemoveIdleSensorsAsync(idleFor, cancellationToken);
            }
            finally
            {
                Interlocked.Increment(ref _done);
            }
        }

        public ValueTask RegisterAsync(SensorDescriptor sensor, CancellationToken cancellationToken) => inner.RegisterAsync(sensor, cancellationToken);

        public ValueTask<PublishOutcome> PublishAsync(
            string sensorId, double value, DateTime timestampUtc, SensorRegistration registration, CancellationToken cancellationToken) =>
            inner.PublishAsync(sensorId, value, timestampUtc, registration, cancellationToken);

        public ValueTask<SensorInfo?> FindSensorAsync(string sensorId, CancellationToken cancellationToken) => inner.FindSensorAsync(sensorId, cancellationToken);

        public ValueTask<SensorPage> ListSensorsAsync(
            string prefix, string? after, int limit, Predicate<string>? visible, CancellationToken cancellationToken) =>
            inner.ListSensorsAsync(prefix, after, limit, visible, cancellationToken);

        public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, LiveBufferMode mode, CancellationToken cancellationToken) =>
            inner.SubscribeAsync(sensorId, mode, cancellationToken);

        public ValueTask<IFeedSubscription?> SubscribeAsync(string sensorId, SharedLiveBuffer buffer, CancellationToken cancellationToken) =>
            inner.SubscribeAsync(sensorId, buffer, cancellationToken);

        public ValueTask<ISensorWatch> WatchSensorsAsync(string prefix, CancellationToken cancellationToken) =>
            inner.WatchSensorsAsync(prefix, cancellationToken);

        public FeedCounters GetCounters() => inner.GetCounters();
    }
}
