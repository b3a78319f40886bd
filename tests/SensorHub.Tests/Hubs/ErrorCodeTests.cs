using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Sessions;
using SensorHub.Server.Sessions.Internal;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>A server whose limits are small enough that a test reaches each of them with a few calls.</summary>
public sealed class ErrorCodeFixture : IAsyncLifetime
{
    public SensorHubApplication App { get; } = new(settings: new Dictionary<string, string?>
    {
        ["SensorHub:Hub:MaxStreamsPerConnection"] = "2",
        ["SensorHub:Uploads:MaxUploadsPerConnection"] = "1",
        ["SensorHub:Uploads:MaxConcurrentUploads"] = "1",
        ["SensorHub:Sessions:MaxOpenSessionsPerUser"] = "1",
        ["SensorHub:Sessions:MaxParticipantsPerSession"] = "1",
        ["SensorHub:Sessions:AnnotationRateLimit"] = "1",
        ["SensorHub:Sessions:AnnotationRatePeriod"] = "01:00:00",
        ["SensorHub:Sessions:EventBufferCapacity"] = "1",
        // Each case's user is a new owner: the other cases' 3-byte uploads stay far below these.
        ["SensorHub:Uploads:MaxBytesPerOwner"] = "1024",
        ["SensorHub:Uploads:MinFreeDiskBytes"] = "1000",
        ["SensorHub:Feeds:MaxSensorsPerPublisher"] = "1",
    })
    {
        // A disk with 1,100 bytes free: a chunk over 100 bytes would leave less than the floor.
        TestServices = services => services.AddSingleton(new SensorHub.Server.Uploads.DiskSpace(_ => 1100)),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>
/// Every code of <see cref="SensorHubErrors"/>, provoked through the real hub: the client reads the code from the
/// message at its documented place, and the connection that was refused goes on working. Adding a code without a case
/// here fails <see cref="EveryCodeHasACase"/>.
/// </summary>
public sealed class ErrorCodeTests(ErrorCodeFixture fixture) : IClassFixture<ErrorCodeFixture>
{
    /// <summary>Does what the server refuses with the code, on <see cref="Call.Hub"/>, and cleans up after itself.</summary>
    private delegate Task Provocation(Call call);

    private static readonly Dictionary<string, (Func<TestUser> User, Provocation Provoke)> s_cases = new()
    {
        [SensorHubErrors.InvalidArgument] = (Admin, call => call.Hub.ReadReadingsAsync("plant 1", null, 1, call.Token)),
        [SensorHubErrors.NotAllowed] = (Viewer, call => call.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token)),
        [SensorHubErrors.UnknownSensor] = (Admin, call => call.Hub.ReadReadingsAsync(Sensors.NewId("unknown"), null, 1, call.Token)),
        [SensorHubErrors.UnknownUpload] = (Admin, call => call.Hub.InvokeAsync<UploadStatus>(SensorHubMethods.GetUploadStatus, NewId(), call.Token)),
        [SensorHubErrors.UnknownSession] = (Admin, call => ReadAllAsync(call.Hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, NewId(), call.Token))),
        [SensorHubErrors.TooManyStreams] = (Admin, TooManyStreamsAsync),
        [SensorHubErrors.TooManyUploads] = (Admin, TooManyUploadsAsync),
        [SensorHubErrors.ServerBusy] = (Admin, ServerBusyAsync),
        [SensorHubErrors.TooManySessions] = (Admin, TooManySessionsAsync),
        [SensorHubErrors.SessionFull] = (Admin, SessionFullAsync),
        [SensorHubErrors.RateLimited] = (Admin, RateLimitedAsync),
        [SensorHubErrors.FellBehind] = (Admin, FellBehindAsync),
        [SensorHubErrors.UploadHasWriter] = (Admin, UploadHasWriterAsync),
        [SensorHubErrors.UploadOffsetMismatch] = (Admin, UploadOffsetMismatchAsync),
        [SensorHubErrors.UploadComplete] = (Admin, UploadCompleteAsync),
        [SensorHubErrors.UploadFailed] = (Admin, UploadFailedAsync),
        [SensorHubErrors.UploadNotComplete] = (Admin, async call => await call.Hub.DownloadAsync((await call.Begin([1, 2, 3])).UploadId, 0, call.Token)),
        [SensorHubErrors.TooLarge] = (Admin, TooLargeAsync),
        [SensorHubErrors.TooManySensors] = (Admin, TooManySensorsAsync),
        [SensorHubErrors.QuotaExceeded] = (Admin, QuotaExceededAsync),
        [SensorHubErrors.InsufficientStorage] = (Admin, InsufficientStorageAsync),
    };

    public static TheoryData<string, Protocol> Cases
    {
        get
        {
            var data = new TheoryData<string, Protocol>();
            foreach (var code in s_cases.Keys)
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                    data.Add(code, protocol);
            }
            return data;
        }
    }

    private SensorHubApplication App => fixture.App;

    /// <summary>
    /// Codes only a node on Redis raises, which this in-memory server cannot: each has its case against a real
    /// redis-server (<c>backend_unavailable</c>: <see cref="Redis.Feeds.RedisFeedFaultTests"/>, through the hub).
    /// </summary>
    private static readonly string[] s_provokedOnRedis = [SensorHubErrors.BackendUnavailable];

    [Fact]
    public void EveryCodeHasACase() =>
        Assert.Equal(
            SensorHubErrors.All.Except(s_provokedOnRedis).Order(StringComparer.Ordinal),
            s_cases.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TheClientReadsTheCodeAndTheConnectionGoesOn(string code, Protocol protocol)
    {
        var (user, provoke) = s_cases[code];
        var who = user();
        await using var connection = await App.ConnectAsync(protocol, who);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var call = new Call(App, protocol, who, connection, cts.Token);

        var error = await Assert.ThrowsAsync<HubException>(() => provoke(call).WaitAsync(Timeouts.Default));

        Assert.Equal(code, SensorHubErrors.CodeOf(error.Message));
        Assert.Contains($"HubException: [{code}] ", error.Message, StringComparison.Ordinal);
        // Everything the case opened has ended, the refused call took nothing, and the connection still streams.
        await Timeouts.WaitUntilAsync(() => App.Activity.ActiveStreams == 0, Timeouts.Default, "every stream of the case ended");
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        var sensorId = Sensors.NewId("after");
        var published = await App.Engine.PublishAsync(sensorId, 1);
        Assert.Equal(published, await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 1, cts.Token));
    }

    // ---- Provocations that need more than one call ----

    private static async Task TooManyStreamsAsync(Call call)
    {
        var sensorId = Sensors.NewId();
        await call.App.Engine.PublishAsync(sensorId, 1);
        using var held = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
        var streams = new List<IAsyncEnumerator<Reading>>();
        try
        {
            // MaxStreamsPerConnection is 2: both are running once each delivered its first reading.
            for (var i = 0; i < 2; i++)
            {
                streams.Add(call.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, new SubscribeOptions { FromSequence = 0 }, held.Token)
                    .GetAsyncEnumerator(held.Token));
                Assert.True(await streams[i].MoveNextAsync());
            }
            await call.Hub.ReadReadingsAsync(sensorId, null, 1, call.Token);
        }
        finally
        {
            await held.CancelAsync();
            foreach (var stream in streams)
                await stream.DisposeAsync();
        }
    }

    private static async Task TooManyUploadsAsync(Call call)
    {
        // MaxUploadsPerConnection is 1: this connection's own running upload is the one.
        await using var running = await HeldUpload.StartAsync(call, call.Connection);
        await call.Hub.UploadAsync((await call.Begin([1, 2, 3])).UploadId, 0, UploadStreams.Chunks([[1, 2, 3]]), call.Token);
    }

    private static async Task ServerBusyAsync(Call call)
    {
        // MaxConcurrentUploads is 1: another connection's running upload is the one.
        await using var other = await call.App.ConnectAsync(call.Protocol, call.User);
        await using var running = await HeldUpload.StartAsync(call, other);
        await call.Hub.UploadAsync((await call.Begin([1, 2, 3])).UploadId, 0, UploadStreams.Chunks([[1, 2, 3]]), call.Token);
    }

    private static async Task UploadHasWriterAsync(Call call)
    {
        await using var other = await call.App.ConnectAsync(call.Protocol, call.User);
        await using var running = await HeldUpload.StartAsync(call, other);
        await call.Hub.UploadAsync(running.UploadId, HeldUpload.Received, UploadStreams.Chunks([[1, 2, 3]]), call.Token);
    }

    private static async Task UploadOffsetMismatchAsync(Call call)
    {
        var begun = await call.Begin([1, 2, 3]);
        await call.Hub.UploadAsync(begun.UploadId, 1, UploadStreams.Chunks([[2, 3]]), call.Token);
    }

    private static async Task UploadCompleteAsync(Call call)
    {
        var begun = await call.Begin([1, 2, 3]);
        Assert.True((await call.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([[1, 2, 3]]), call.Token)).Complete);
        await call.Hub.UploadAsync(begun.UploadId, 3, UploadStreams.Chunks([]), call.Token);
    }

    private static async Task UploadFailedAsync(Call call)
    {
        // The declared SHA-256 is another file's: the upload fails when its last byte is in.
        var begun = await call.Begin([1, 2, 3], sha256: UploadStreams.Sha256Of([3, 2, 1]));
        await call.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([[1, 2, 3]]), call.Token);
    }

    private static async Task TooLargeAsync(Call call)
    {
        var begun = await call.Begin([1, 2, 3]);
        await call.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([[1, 2, 3, 4]]), call.Token);
    }

    private static async Task QuotaExceededAsync(Call call)
    {
        // MaxBytesPerOwner is 1,024.
        var begun = await call.Hub.BeginUploadAsync(new UploadRequest { Name = "quota.bin", ContentType = "application/octet-stream" });
        await call.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([new byte[1025]]), call.Token);
    }

    private static async Task InsufficientStorageAsync(Call call)
    {
        // 1,100 bytes free, a floor of 1,000: a chunk of 200 would leave 900.
        var begun = await call.Hub.BeginUploadAsync(new UploadRequest { Name = "disk.bin", ContentType = "application/octet-stream" });
        await call.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([new byte[200]]), call.Token);
    }

    private static async Task TooManySessionsAsync(Call call)
    {
        // MaxOpenSessionsPerUser is 1.
        var first = await call.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token);
        try
        {
            await call.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token);
        }
        finally
        {
            await call.Hub.InvokeAsync(SensorHubMethods.EndSession, first.Id, call.Token);
        }
    }

    private static async Task SessionFullAsync(Call call)
    {
        // MaxParticipantsPerSession is 1: its owner is in it.
        await using var owner = await call.App.ConnectAsync(call.Protocol, Admin());
        var session = await owner.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
        var present = owner.Hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, session.Id, leave.Token).GetAsyncEnumerator(leave.Token);
        try
        {
            Assert.True(await present.MoveNextAsync());
            await ReadAllAsync(call.Hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, session.Id, call.Token));
        }
        finally
        {
            await leave.CancelAsync();
            await present.DisposeAsync();
            await owner.Hub.InvokeAsync(SensorHubMethods.EndSession, session.Id, call.Token);
        }
    }

    private static async Task RateLimitedAsync(Call call)
    {
        // AnnotationRateLimit is 1 an hour.
        var session = await call.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token);
        try
        {
            for (var i = 0; i < 2; i++)
                await call.Hub.InvokeAsync(SensorHubMethods.Annotate, session.Id, new AnnotationInput { Text = $"note {i}" }, call.Token);
        }
        finally
        {
            await call.Hub.InvokeAsync(SensorHubMethods.EndSession, session.Id, call.Token);
        }
    }

    private static async Task FellBehindAsync(Call call)
    {
        // EventBufferCapacity is 1. The burst of events is made inside the server, faster than any stream sends them:
        // through the hub each event would cost a round trip, which gives the stream time to keep up.
        var session = await call.Hub.InvokeAsync<SessionInfo>(SensorHubMethods.CreateSession, NewSession(), call.Token);
        var state = ((InMemorySessionStore)call.App.Services.GetRequiredService<ISessionStore>()).Find(session.Id)!;
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
        var joined = call.Hub.StreamAsync<SessionEvent>(SensorHubMethods.JoinSession, session.Id, leave.Token).GetAsyncEnumerator(leave.Token);
        try
        {
            Assert.True(await joined.MoveNextAsync());
            for (var i = 0; i < 100_000 && state.MemberCount > 0; i++)
                state.SetSensors([$"plant-1/{i}"]);
            while (await joined.MoveNextAsync())
            {
                // What was buffered before the stream fell behind still arrives.
            }
        }
        finally
        {
            await leave.CancelAsync();
            await joined.DisposeAsync();
            await call.Hub.InvokeAsync(SensorHubMethods.EndSession, session.Id, call.Token);
        }
    }

    private static async Task TooManySensorsAsync(Call call)
    {
        // MaxSensorsPerPublisher is 1. A sensor cap is no error of the call: the item is rejected alone, with its code in
        // the PublishResult, and the stream goes on. The case hands that code on the way a refused call carries one,
        // so that the checks every code gets hold for it too.
        var result = await call.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish,
            new[] { new ReadingInput { SensorId = Sensors.NewId("cap"), Value = 1 }, new ReadingInput { SensorId = Sensors.NewId("cap"), Value = 2 } }.ToAsyncEnumerable(),
            call.Token);
        Assert.Equal(1, result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        throw new HubException($"Publish rejected item {rejection.Index}. HubException: [{rejection.Code}] {rejection.Reason}");
    }

    // ---- Helpers ----

    private static TestUser Admin() => new($"admin-{Guid.NewGuid():N}", SensorHub.Server.Identity.Roles.Admin);

    private static TestUser Viewer() => TestUser.Viewer($"viewer-{Guid.NewGuid():N}");

    private static string NewId() => Guid.NewGuid().ToString("N");

    private static CreateSessionRequest NewSession() => new() { Title = "error codes", SensorIds = ["plant-1/line-1/temperature"] };

    private static async Task ReadAllAsync<T>(IAsyncEnumerable<T> stream)
    {
        await foreach (var _ in stream)
        {
        }
    }

    /// <summary>One case's call: the server, and the connection the refusal is meant for.</summary>
    private sealed class Call(SensorHubApplication app, Protocol protocol, TestUser user, TestConnection connection, CancellationToken token)
    {
        public SensorHubApplication App { get; } = app;

        public Protocol Protocol { get; } = protocol;

        public TestUser User { get; } = user;

        public TestConnection Connection { get; } = connection;

        public HubConnection Hub => Connection.Hub;

        public CancellationToken Token { get; } = token;

        public Task<UploadStatus> Begin(byte[] data, string? sha256 = null) =>
            Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "codes.bin", ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = sha256 ?? UploadStreams.Sha256Of(data),
            });
    }

    /// <summary>An upload whose stream is running on the server until it is disposed: it holds its slots.</summary>
    private sealed class HeldUpload : IAsyncDisposable
    {
        private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>();
        private Task<UploadResult> _running = null!;

        /// <summary>The bytes it has on disk while it is held.</summary>
        public const long Received = 3;

        public string UploadId { get; private set; } = "";

        public static async Task<HeldUpload> StartAsync(Call call, TestConnection connection)
        {
            var held = new HeldUpload();
            var begun = await connection.Hub.BeginUploadAsync(new UploadRequest { Name = "held.bin", ContentType = "application/octet-stream" });
            held.UploadId = begun.UploadId;
            held._chunks.Writer.TryWrite([1, 2, 3]);
            held._running = connection.Hub.UploadAsync(begun.UploadId, 0, held._chunks.Reader.ReadAllAsync(call.Token), call.Token);
            await Timeouts.WaitUntilAsync(
                () => call.App.Services.GetStatus(begun.UploadId).ReceivedBytes == Received, Timeouts.Default, "the held upload's first chunk on disk");
            return held;
        }

        public async ValueTask DisposeAsync()
        {
            // Without totalBytes, the end of the stream completes the upload.
            _chunks.Writer.TryComplete();
            Assert.True((await _running.WaitAsync(Timeouts.Default)).Complete);
        }
    }
}
