using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SensorHub.Server;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;

namespace SensorHub.Tests.Sessions;

/// <summary>What <c>AddSensorHubSessions</c> registers: validated settings, and a store that a distributed one can replace.</summary>
public sealed class SessionOptionsTests
{
    public static TheoryData<string, string> BadSettings => new()
    {
        { "MaxOpenSessionsPerUser", "0" },
        { "MaxParticipantsPerSession", "-1" },
        { "MaxSensorsPerSession", "0" },
        { "MaxTitleLength", "0" },
        { "MaxAnnotationLength", "0" },
        { "AnnotationRateLimit", "0" },
        { "AnnotationRatePeriod", "00:00:00" },
        { "RecentAnnotations", "-1" },
        { "EventBufferCapacity", "0" },
        { "IdleTimeout", "-00:00:01" },
        { "IdleTimeout", "00:00:00.999" },
        { "IdleTimeout", "366.00:00:00" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void BadSettingIsRefusedByName(string name, string value)
    {
        using var services = Build(new() { [$"{LiveSessionOptions.Section}:{name}"] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LiveSessionOptions>>().Value);

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultsAreTheDocumentedOnes()
    {
        using var services = Build([]);

        var options = services.GetRequiredService<IOptions<LiveSessionOptions>>().Value;

        Assert.Equal(
            (10, 100, 50, 100, 200, 500, 5, TimeSpan.FromSeconds(1), 200, 1_000, TimeSpan.FromHours(1)),
            (options.MaxOpenSessionsPerUser, options.MaxParticipantsPerSession, options.MaxSensorsPerSession, options.MaxInvited,
                options.MaxTitleLength, options.MaxAnnotationLength, options.AnnotationRateLimit, options.AnnotationRatePeriod,
                options.RecentAnnotations, options.EventBufferCapacity, options.IdleTimeout));
        Assert.Equal(TimeSpan.FromMinutes(1), options.IdleSweepInterval);
    }

    [Theory]
    [InlineData("00:00:00", 0)]
    [InlineData("00:00:01", 250)]
    [InlineData("00:02:00", 30_000)]
    [InlineData("01:00:00", 60_000)]
    public void IdleTimeoutOfZeroOrASecondAndMoreIsAcceptedAndSetsTheSweepInterval(string idleTimeout, int sweepMilliseconds)
    {
        using var services = Build(new() { [$"{LiveSessionOptions.Section}:IdleTimeout"] = idleTimeout });

        var options = services.GetRequiredService<IOptions<LiveSessionOptions>>().Value;

        Assert.Equal(TimeSpan.Parse(idleTimeout, System.Globalization.CultureInfo.InvariantCulture), options.IdleTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(sweepMilliseconds), options.IdleSweepInterval);
    }

    [Fact]
    public void TheIdleSweeperIsRegisteredAsAHostedService()
    {
        var services = new ServiceCollection().AddSensorHubSessions();

        Assert.Contains(services, d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService) && d.ImplementationType == typeof(IdleSessionSweeper));
    }

    [Fact]
    public void AStoreRegisteredBeforeWinsOverTheInMemoryOne()
    {
        var withOwn = new ServiceCollection();
        withOwn.AddSingleton<ISessionStore, DistributedStoreStandIn>();
        withOwn.AddSensorHubSessions();
        var withDefault = new ServiceCollection().AddSensorHubSessions();

        Assert.Equal(typeof(DistributedStoreStandIn), withOwn.Single(d => d.ServiceType == typeof(ISessionStore)).ImplementationType);
        Assert.Equal(typeof(InMemorySessionStore), withDefault.Single(d => d.ServiceType == typeof(ISessionStore)).ImplementationType);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSensorHubSessions();
        return services.BuildServiceProvider();
    }

    /// <summary>Stands for a distributed store; never called.</summary>
    private sealed class DistributedStoreStandIn : ISessionStore
    {
        public Task AddAsync(StoredSession session, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<StoredSession?> FindAsync(string sessionId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<StoredSession>> ListAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ISessionMembership?> JoinAsync(string sessionId, SessionUser joiner, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> AnnotateAsync(string sessionId, SessionUser author, SensorHub.Contracts.Annotation annotation, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<StoredSession?> SetSensorsAsync(string sessionId, string[] sensorIds, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> EndAsync(string sessionId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<StoredSession>> EndIdleAsync(TimeSpan idleFor, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
