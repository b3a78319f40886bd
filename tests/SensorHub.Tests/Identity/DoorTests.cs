using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Identity;

/// <summary>
/// The hub and <c>/api/stats</c> stand behind one door: every kind of caller gets the same answer at both, where
/// guests are allowed and where they are not. Health and the page stay open.
/// </summary>
public sealed class DoorTests(DoorTests.Apps apps) : IClassFixture<DoorTests.Apps>
{
    private const string Key = "a-test-signing-key-of-at-least-32-characters";

    /// <summary>Two servers with a key the tests know: one that lets guests in (Development), one that does not (Production).</summary>
    public sealed class Apps : IAsyncLifetime
    {
        public SensorHubApplication GuestsAllowed { get; } = new(settings: new Dictionary<string, string?> { ["SensorHub:Auth:SigningKey"] = Key });

        public SensorHubApplication GuestsRefused { get; } = new(
            settings: new Dictionary<string, string?> { ["SensorHub:Auth:SigningKey"] = Key }, environment: "Production");

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync()
        {
            await GuestsAllowed.DisposeAsync();
            await GuestsRefused.DisposeAsync();
        }
    }

    public enum Door
    {
        /// <summary>The hub's negotiate request.</summary>
        Hub,

        /// <summary><c>GET /api/stats</c>.</summary>
        Stats,
    }

    /// <summary>Every caller at both doors, with the one answer the rule gives.</summary>
    public static TheoryData<Door, bool, string, HttpStatusCode> Callers
    {
        get
        {
            var data = new TheoryData<Door, bool, string, HttpStatusCode>();
            foreach (var door in Enum.GetValues<Door>())
            {
                data.Add(door, true, "none", HttpStatusCode.OK);
                data.Add(door, true, "valid", HttpStatusCode.OK);
                data.Add(door, true, "expired", HttpStatusCode.Unauthorized);
                data.Add(door, true, "expired within the clock skew", HttpStatusCode.Unauthorized);
                data.Add(door, true, "badly signed", HttpStatusCode.Unauthorized);
                data.Add(door, true, "garbage", HttpStatusCode.Unauthorized);
                data.Add(door, false, "none", HttpStatusCode.Unauthorized);
                data.Add(door, false, "valid", HttpStatusCode.OK);
                data.Add(door, false, "expired", HttpStatusCode.Unauthorized);
                data.Add(door, false, "expired within the clock skew", HttpStatusCode.Unauthorized);
                data.Add(door, false, "garbage", HttpStatusCode.Unauthorized);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task EachCallerGetsTheSameAnswerAtTheHubAndAtTheStats(Door door, bool guestsAllowed, string caller, HttpStatusCode expected)
    {
        var app = guestsAllowed ? apps.GuestsAllowed : apps.GuestsRefused;
        var now = DateTime.UtcNow;
        var token = caller switch
        {
            "none" => null,
            "valid" => Mint(Key, now, now.AddMinutes(5)),
            "expired" => Mint(Key, now.AddHours(-2), now.AddHours(-1)),
            "expired within the clock skew" => Mint(Key, now.AddMinutes(-2), now.AddSeconds(-10)),
            "badly signed" => Mint("another-signing-key-of-at-least-32-characters", now, now.AddMinutes(5)),
            _ => "not.a.token",
        };
        using var client = app.CreateHttpClient();
        using var request = door == Door.Hub
            ? new HttpRequestMessage(HttpMethod.Post, $"{SensorHubRoutes.Hub}/negotiate?negotiateVersion=1")
            : new HttpRequestMessage(HttpMethod.Get, SensorHubRoutes.Stats);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await client.SendAsync(request).WaitAsync(Timeouts.Default);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        else if (door == Door.Stats)
            Assert.NotNull(await response.Content.ReadFromJsonAsync<ServerStats>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HealthAndThePageStayOpen(bool guestsAllowed)
    {
        var app = guestsAllowed ? apps.GuestsAllowed : apps.GuestsRefused;
        using var client = app.CreateHttpClient();
        using var withGarbage = new HttpRequestMessage(HttpMethod.Get, SensorHubRoutes.Health);
        withGarbage.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not.a.token");

        using var health = await client.GetAsync(SensorHubRoutes.Health).WaitAsync(Timeouts.Default);
        using var healthWithGarbage = await client.SendAsync(withGarbage).WaitAsync(Timeouts.Default);
        using var page = await client.GetAsync("/").WaitAsync(Timeouts.Default);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, healthWithGarbage.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task StatsAskTheEngineForItsTotalsOnly()
    {
        var calls = new ConcurrentQueue<string>();
        await using var app = new SensorHubApplication
        {
            // Every engine call made on behalf of a stats request is recorded: nothing per sensor or subscriber.
            TestServices = services =>
            {
                var engine = services.Last(d => d.ServiceType == typeof(IFeedEngine));
                services.Remove(engine);
                services.AddSingleton(provider => EngineRecorder.Wrap(
                    (IFeedEngine)ActivatorUtilities.CreateInstance(provider, engine.ImplementationType!), calls));
            },
        };
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 3);
        await using var connection = await app.ConnectAsync(Protocol.Json);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stream = connection.Hub.ReadReadingsAsync(sensorId, null, int.MaxValue, cts.Token);
        await Timeouts.WaitUntilAsync(() => Sensors.SubscribersOf(app, sensorId) == 1, Timeouts.Default, "a subscriber");
        // The request runs in the test's execution context, so the recorder tells its calls from anyone else's.
        app.Server.PreserveExecutionContext = true;

        EngineRecorder.Recording.Value = true;
        var stats = await app.GetStatsAsync();
        EngineRecorder.Recording.Value = false;

        Assert.Equal([nameof(IFeedEngine.GetCounters)], calls);
        Assert.True(stats.Sensors >= 1 && stats.ReadingsPublished >= 3 && stats.ActiveStreams >= 1, stats.ToString());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream);
    }

    private static string Mint(string key, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "vera"), new Claim("name", "vera"), new Claim("role", "viewer")]),
            Issuer = "sensorhub",
            Audience = "sensorhub",
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });

    /// <summary>An <see cref="IFeedEngine"/> that passes every call on and records those made while <see cref="Recording"/> is set.</summary>
    public class EngineRecorder : DispatchProxy
    {
        public static readonly AsyncLocal<bool> Recording = new();

        private IFeedEngine _target = null!;
        private ConcurrentQueue<string> _calls = null!;

        public static IFeedEngine Wrap(IFeedEngine target, ConcurrentQueue<string> calls)
        {
            var proxy = Create<IFeedEngine, EngineRecorder>();
            var recorder = (EngineRecorder)(object)proxy;
            recorder._target = target;
            recorder._calls = calls;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (Recording.Value)
                _calls.Enqueue(targetMethod!.Name);
            try
            {
                return targetMethod!.Invoke(_target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}
