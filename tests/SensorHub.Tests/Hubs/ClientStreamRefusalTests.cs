using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>A server whose <c>Publish</c> and <c>PublishBatches</c> stop reading after one item, as they do when the engine loses its store.</summary>
public sealed class ClientStreamRefusalFixture : IAsyncLifetime
{
    public const string EngineLost = "The engine lost its store (emulated by the test).";

    public SensorHubApplication App { get; } = new(settings: new Dictionary<string, string?>
    {
        ["SensorHub:Hub:MaxStreamsPerConnection"] = "2",
    })
    {
        TestServices = services => services.Configure<HubOptions>(hub => hub.AddFilter<StopsReadingAfterOneItem>()),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>Innermost: reads one item of a publish stream, then fails the call as <c>ReadingIngest</c> does when a flush fails.</summary>
    private sealed class StopsReadingAfterOneItem : IHubFilter
    {
        public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
        {
            switch (invocationContext.HubMethodArguments[0])
            {
                case IAsyncEnumerable<ReadingInput?> readings:
                    await ReadOneAsync(readings);
                    break;
                case IAsyncEnumerable<ReadingInput?[]?> batches:
                    await ReadOneAsync(batches);
                    break;
                default:
                    return await next(invocationContext);
            }
            throw new SensorHubException(SensorHubErrors.BackendUnavailable, EngineLost);
        }

        private static async Task ReadOneAsync<T>(IAsyncEnumerable<T> stream)
        {
            await using var enumerator = stream.GetAsyncEnumerator();
            await enumerator.MoveNextAsync();
            // Let the client's next items fill SignalR's buffer for this stream before the call ends.
            await Task.Delay(50);
        }
    }
}

/// <summary>
/// A call that takes a client-to-server stream and ends before the client has sent all of it (refused part-way, or
/// before it read anything) answers with its refusal, and the connection goes on working, however many items the
/// client still had in flight. SignalR closed the whole connection ("Connection closed with an error.") when a stream
/// item was waiting for room in the stream's buffer as the call ended; the client never heard the refusal.
/// </summary>
public sealed class ClientStreamRefusalTests(ClientStreamRefusalFixture fixture) : IClassFixture<ClientStreamRefusalFixture>
{
    private const int ItemsInFlight = 300;
    private const int Rounds = 5;

    private SensorHubApplication App => fixture.App;

    /// <summary>
    /// Refused for its offset (checked after the call has taken its write slot, an await, while the chunks arrive), or
    /// part-way: 10,000 bytes declared and 30,000 sent, the 101st chunk is refused while 199 more are on their way.
    /// </summary>
    public static TheoryData<Protocol, bool> UploadRefusals => new()
    {
        { Protocol.Json, false }, { Protocol.Json, true }, { Protocol.MessagePack, false }, { Protocol.MessagePack, true },
    };

    [Theory]
    [MemberData(nameof(UploadRefusals))]
    public async Task AnUploadRefusedWhileItsChunksAreInFlightAnswersWithItsCodeKeepsItsBytesAndTheConnectionStays(Protocol protocol, bool partWay)
    {
        var (totalBytes, offset, code, text, kept) = partWay
            ? (10_000, 0, SensorHubErrors.TooLarge, "past its totalBytes (10000)", 10_000)
            : (ItemsInFlight * 100, 7, SensorHubErrors.UploadOffsetMismatch, "offset 7 does not match the 0 bytes already received", 0);
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        for (var round = 0; round < Rounds; round++)
        {
            var begun = await connection.Hub.BeginUploadAsync(Request(totalBytes));

            var refused = await AssertRefusedAsync(
                connection.Hub.UploadAsync(begun.UploadId, offset, Chunks(ItemsInFlight, 100, cts.Token), cts.Token), code);
            Assert.Contains(text, refused.Message, StringComparison.Ordinal);

            await AssertConnectionWorksAsync(connection, begun.UploadId, expectedBytes: kept);
        }
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task APublishStreamEndedByTheEngineAnswersWithItsCodeAndTheConnectionStays(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        for (var round = 0; round < Rounds; round++)
        {
            var refused = round % 2 == 0
                ? await AssertRefusedAsync(connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(ItemsInFlight, cts.Token), cts.Token), SensorHubErrors.BackendUnavailable)
                : await AssertRefusedAsync(connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Batches(ItemsInFlight, cts.Token), cts.Token), SensorHubErrors.BackendUnavailable);
            Assert.Contains(ClientStreamRefusalFixture.EngineLost, refused.Message, StringComparison.Ordinal);

            await AssertConnectionWorksAsync(connection, uploadId: null, expectedBytes: 0);
        }
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task APublishStreamRefusedBeforeItIsReadAnswersWithItsCodeAndTheConnectionStays(Protocol protocol)
    {
        await using var viewer = await App.ConnectAsync(protocol, TestUser.Viewer());
        using var cts = new CancellationTokenSource(Timeouts.Default);
        for (var round = 0; round < Rounds; round++)
        {
            await AssertRefusedAsync(
                viewer.Hub.InvokeAsync<PublishResult>(SensorHubMethods.Publish, Readings(ItemsInFlight, cts.Token), cts.Token),
                SensorHubErrors.NotAllowed);
            Assert.Equal(HubConnectionState.Connected, viewer.Hub.State);
            Assert.NotNull(await viewer.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null, cts.Token).WaitAsync(Timeouts.Default));
        }
    }

    private static UploadRequest Request(long totalBytes) =>
        new() { Name = "in-flight.bin", ContentType = "application/octet-stream", TotalBytes = totalBytes };

    /// <summary>Refused with <paramref name="code"/> in the message, within the default timeout.</summary>
    private static async Task<HubException> AssertRefusedAsync(Task call, string code)
    {
        var refused = await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(Timeouts.Default));
        Assert.Equal(code, SensorHubErrors.CodeOf(refused.Message));
        return refused;
    }

    /// <summary>Still connected, and it answers: the upload's status (its bytes kept), and a listing.</summary>
    private static async Task AssertConnectionWorksAsync(TestConnection connection, string? uploadId, long expectedBytes)
    {
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        if (uploadId is not null)
            Assert.Equal(expectedBytes, (await connection.Hub.GetUploadStatusAsync(uploadId)).ReceivedBytes);
        Assert.NotNull(await connection.Hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, null).WaitAsync(Timeouts.Default));
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    // Each sender yields without waiting, so that the client's items queue up behind the call as a fast client's do.

    private static async IAsyncEnumerable<byte[]> Chunks(int count, int size, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
            yield return new byte[size];
        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<ReadingInput> Readings(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sensorId = Sensors.NewId("in-flight");
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
            yield return new ReadingInput { SensorId = sensorId, Value = i };
        await Task.CompletedTask;
    }

    private static async IAsyncEnumerable<ReadingInput[]> Batches(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var reading in Readings(count, cancellationToken))
            yield return [reading, reading];
    }
}
