using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// <c>PublishBatches</c>, <c>Publish</c> with several readings per stream item: each reading is checked, limited and
/// rejected alone as under <c>Publish</c> and numbered by its position over the whole stream; a null batch is one
/// rejected item, an empty one takes no position, one over <c>MaxPublishBatchSize</c> is rejected whole; the stream
/// holds a stream slot and needs a publisher's role like <c>Publish</c>.
/// </summary>
/// <remarks>What crosses nodes runs over every engine target (a device on node A, a viewer on node B).</remarks>
public sealed class PublishBatchesTests(EngineFixture engines, ApplicationFixture apps) : IClassFixture<EngineFixture>, IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task BatchesReachALiveSubscriberInOrderWithConsecutiveSequences(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var sensorId = Sensors.NewId("batches");
        await using var device = await nodes.A.ConnectAsync(protocol);
        await using var viewer = await nodes.B.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var stamp = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        int[] sizes = [1, 50, 0, 120, 29];
        var batches = BatchesOf(sizes, position => new ReadingInput { SensorId = sensorId, Value = position, Timestamp = stamp.AddMilliseconds(position) });

        // The first batch registers the sensor; the subscriber then reads while the other batches arrive.
        var stream = Channel.CreateUnbounded<ReadingInput[]>();
        var publishing = device.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, stream.Reader, cts.Token);
        await stream.Writer.WriteAsync(batches[0], cts.Token);
        await Timeouts.WaitUntilAsync(async () => await nodes.B.Engine.FindSensorAsync(sensorId, CancellationToken.None) is not null,
            Timeouts.Default, "the first batch is published");
        var reading = viewer.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, sizes.Sum(), cts.Token);
        foreach (var batch in batches.Skip(1))
            await stream.Writer.WriteAsync(batch, cts.Token);
        stream.Writer.Complete();
        var result = await publishing;
        var readings = await reading;

        Assert.Equal((200L, 0L), (result.Accepted, result.Rejected));
        Assert.Empty(result.Rejections);
        Sensors.AssertConsecutive(readings);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (double)i), readings.Select(r => r.Value));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => stamp.AddMilliseconds(i)), readings.Select(r => r.Timestamp));
        Assert.All(readings, r => Assert.Equal(sensorId, r.SensorId));
    }

    [Theory]
    [MemberData(nameof(EngineTargets.All), MemberType = typeof(EngineTargets))]
    public async Task RejectionsAreNumberedOverTheWholeStreamAndANullBatchIsOneRejectedItem(EngineTarget engine, Protocol protocol)
    {
        var nodes = await engines.NodesAsync(engine);
        var sensorId = Sensors.NewId("batches");
        await using var connection = await nodes.A.ConnectAsync(protocol);
        await using var viewer = await nodes.B.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        // Each good reading's value is its position, so that what was kept shows which positions were accepted.
        ReadingInput Good(int position) => new() { SensorId = sensorId, Value = position };
        var batches = new List<ReadingInput?[]?>
        {
            new[] { Good(0), Good(1), Good(2) },
            new[] { Good(3), new ReadingInput { SensorId = "bad id", Value = 4 }, null, Good(6) },
            null,
            Array.Empty<ReadingInput?>(),
            new[] { Good(8), new ReadingInput { SensorId = "/rooted", Value = 9 } },
        };
        var expected = new List<(long Index, string? SensorId, string Reason)>
        {
            (4, "bad id", "sensorId contains U+0020"),
            (5, null, "the item is null"),
            (7, null, "the batch is null"),
            (9, "/rooted", "sensorId must not start with '/'"),
        };
        var last = 10;
        if (protocol == Protocol.MessagePack)
        {
            // Only MessagePack can carry NaN.
            batches.Add([Good(10), new ReadingInput { SensorId = sensorId, Value = double.NaN }]);
            expected.Add((11, sensorId, "value is NaN"));
            last = 12;
        }
        batches.Add([Good(last)]);

        var result = await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Stream(batches), cts.Token);
        var kept = await viewer.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, (int)result.Accepted, cts.Token);

        Assert.Equal((last + 1L - expected.Count, (long)expected.Count), (result.Accepted, result.Rejected));
        Assert.Equal(expected.Select(e => (e.Index, e.SensorId)), result.Rejections.Select(r => (r.Index, r.SensorId)));
        Assert.All(result.Rejections, r => Assert.Equal(SensorHubErrors.InvalidArgument, r.Code));
        foreach (var (rejection, (_, _, reason)) in result.Rejections.Zip(expected))
            Assert.Contains(reason, rejection.Reason, StringComparison.Ordinal);
        var rejectedPositions = expected.Select(e => (double)e.Index).ToHashSet();
        Assert.Equal(Enumerable.Range(0, last + 1).Select(i => (double)i).Where(p => !rejectedPositions.Contains(p)), kept.Select(r => r.Value));
        Sensors.AssertConsecutive(kept);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ABatchOverTheCapIsRejectedWholeAndLaterPositionsStillMatchTheReadingsSent(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { ["SensorHub:Feeds:MaxPublishBatchSize"] = "3" });
        var sensorId = Sensors.NewId("capped");
        await using var connection = await app.ConnectAsync(protocol);
        var before = await app.GetStatsAsync();
        ReadingInput Good(int value) => new() { SensorId = sensorId, Value = value };

        var result = await connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.PublishBatches,
            Stream<ReadingInput?[]?>([[Good(0), Good(1)], [Good(2), Good(3), Good(4), Good(5)], [Good(6), new ReadingInput { SensorId = "bad id" }, Good(8)]]))
            .WaitAsync(Timeouts.Default);
        var after = await app.GetStatsAsync();
        var kept = await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 4, CancellationToken.None).WaitAsync(Timeouts.Default);

        Assert.Equal((4L, 5L), (result.Accepted, result.Rejected));
        Assert.Equal([2L, 7], result.Rejections.Select(r => r.Index));
        Assert.Equal(
            (SensorHubErrors.InvalidArgument, (string?)null, "the batch holds 4 readings; at most 3 are allowed in one batch"),
            (result.Rejections[0].Code, result.Rejections[0].SensorId, result.Rejections[0].Reason));
        Assert.Equal([0.0, 1, 6, 8], kept.Select(r => r.Value));
        // One refusal for the batch, one for the malformed reading.
        Assert.Equal(before.Refusals[SensorHubErrors.InvalidArgument] + 2, after.Refusals[SensorHubErrors.InvalidArgument]);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task EachReadingOfABatchSpendsTheConnectionsBudgetsAsAPublishItemDoes(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Hub:PublishRateLimit"] = "6",
            ["SensorHub:Hub:PublishRatePeriod"] = "01:00:00",
            ["SensorHub:Hub:NewSensorRateLimit"] = "2",
            ["SensorHub:Hub:NewSensorRatePeriod"] = "01:00:00",
        });
        var known = Sensors.NewId("known");
        await app.Engine.PublishAsync(known, 1);
        var fresh = Enumerable.Range(0, 3).Select(i => Sensors.NewId($"new{i}")).ToArray();
        await using var device = await app.ConnectAsync(protocol, TestUser.Device());

        // Two batches, 8 readings: 3 for new sensors (the third over the budget of 2), 5 for a known one (the last 2 over the budget of 6).
        ReadingInput?[][] batches =
        [
            [.. fresh.Select(id => new ReadingInput { SensorId = id, Value = 1 }), new ReadingInput { SensorId = known, Value = 0 }],
            [.. Enumerable.Range(1, 4).Select(i => new ReadingInput { SensorId = known, Value = i })],
        ];
        var result = await device.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Stream(batches)).WaitAsync(Timeouts.Default);
        // The budget is the connection's, over both methods: a Publish on it now finds it spent.
        var publish = await device.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.Publish, Stream<ReadingInput?>([new ReadingInput { SensorId = known, Value = 9 }])).WaitAsync(Timeouts.Default);

        Assert.Equal(5, result.Accepted);
        Assert.Equal([2L, 6, 7], result.Rejections.Select(r => r.Index));
        Assert.All(result.Rejections, r => Assert.Equal(SensorHubErrors.RateLimited, r.Code));
        Assert.All(result.Rejections, r => Assert.InRange(SensorHubErrors.RetryAfterOf(r.Reason) ?? TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)));
        Assert.StartsWith("sensor '", result.Rejections[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith("this connection publishes more readings a second than it may", result.Rejections[1].Reason, StringComparison.Ordinal);
        Assert.Null(await app.Engine.FindSensorAsync(fresh[2], CancellationToken.None));
        Assert.Equal((0L, SensorHubErrors.RateLimited), (publish.Accepted, Assert.Single(publish.Rejections).Code));
        Assert.Equal(4, (await app.GetStatsAsync()).Refusals[SensorHubErrors.RateLimited]);
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task OnlyAPublisherMayCallItAndOnlyForSensorsWithinItsPrefixes(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var mine = Sensors.NewId("mine");
        await using var viewer = await app.ConnectAsync(protocol, TestUser.Viewer());
        await using var device = await app.ConnectAsync(protocol, TestUser.Device($"bounded-{Guid.NewGuid():N}", "mine/"));

        var refused = await Assert.ThrowsAsync<HubException>(() => viewer.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.PublishBatches, Stream<ReadingInput?[]?>([[new ReadingInput { SensorId = mine, Value = 1 }]]))).WaitAsync(Timeouts.Default);
        var afterViewer = await app.Engine.FindSensorAsync(mine, CancellationToken.None);
        var result = await device.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.PublishBatches,
            Stream<ReadingInput?[]?>([[new ReadingInput { SensorId = mine, Value = 1 }], [new ReadingInput { SensorId = "theirs/1", Value = 2 }, new ReadingInput { SensorId = mine, Value = 3 }]]))
            .WaitAsync(Timeouts.Default);

        Assert.Equal(SensorHubErrors.NotAllowed, SensorHubErrors.CodeOf(refused.Message));
        Assert.Contains("Not allowed: PublishBatches needs the operator or device or admin role.", refused.Message, StringComparison.Ordinal);
        Assert.Null(afterViewer);
        Assert.Equal(2, result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1L, "theirs/1", SensorHubErrors.NotAllowed), (rejection.Index, rejection.SensorId, rejection.Code));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task APublishBatchesStreamHoldsAStreamSlotUntilItEnds(Protocol protocol)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?> { ["SensorHub:Hub:MaxStreamsPerConnection"] = "1" });
        var sensorId = Sensors.NewId("slot");
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var batches = Channel.CreateUnbounded<ReadingInput[]>();
        var publishing = connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, batches.Reader, cts.Token);
        await batches.Writer.WriteAsync([new ReadingInput { SensorId = sensorId, Value = 1 }], cts.Token);
        await Timeouts.WaitUntilAsync(async () => await app.Engine.FindSensorAsync(sensorId, CancellationToken.None) is not null,
            Timeouts.Default, "the PublishBatches stream is running");

        var second = await Assert.ThrowsAsync<HubException>(() => connection.Hub.InvokeAsync<PublishResult>(
            SensorHubMethods.PublishBatches, Stream<ReadingInput?[]?>([[new ReadingInput { SensorId = sensorId, Value = 2 }]]), cts.Token));
        var subscribe = await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(sensorId, null, 1, cts.Token));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(second.Message));
        Assert.Equal(SensorHubErrors.TooManyStreams, SensorHubErrors.CodeOf(subscribe.Message));

        // Once it ends its slot is free again.
        batches.Writer.Complete();
        Assert.Equal(1, (await publishing.WaitAsync(Timeouts.Default)).Accepted);
        Assert.Single(await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 1, cts.Token));
    }

    [Theory]
    [MemberData(nameof(HubTargets.All), MemberType = typeof(HubTargets))]
    public async Task HostileBatchesOfInvalidReadingsCostTheirCallerAloneAndTheConnectionGoesOn(Transport transport, Protocol protocol)
    {
        var app = apps[transport];
        var sensorId = Sensors.NewId("after-hostile");
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        // 200,000 nulls in one message (about 1 MB under JSON, within the message limit), then 30 batches of as many
        // malformed readings as a batch may hold, then one good reading.
        const int huge = 200_000;
        var batches = new List<ReadingInput?[]?> { new ReadingInput?[huge] };
        var malformed = Enumerable.Repeat(new ReadingInput { SensorId = "bad id", Value = 1 }, 1_000).ToArray();
        batches.AddRange(Enumerable.Repeat<ReadingInput?[]?>(malformed, 30));
        batches.Add([new ReadingInput { SensorId = sensorId, Value = 42 }]);

        var result = await connection.Hub.InvokeAsync<PublishResult>(SensorHubMethods.PublishBatches, Stream(batches), cts.Token);

        Assert.Equal((1L, huge + 30_000L), (result.Accepted, result.Rejected));
        Assert.Equal([0L, .. Enumerable.Range(huge, 19).Select(i => (long)i)], result.Rejections.Select(r => r.Index));
        Assert.Equal($"the batch holds {huge} readings; at most 1000 are allowed in one batch", result.Rejections[0].Reason);
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        // The same connection is served at once: a call, and a stream that reads what the stream published last.
        Assert.Contains(sensorId, (await connection.Hub.ListAllSensorsAsync(sensorId, cts.Token)).Select(s => s.Id));
        Assert.Equal(42, Assert.Single(await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, 1, cts.Token)).Value);
    }

    /// <summary>What a JavaScript client sends, byte for byte: camelCase fields, a missing timestamp, null items and batches, an empty batch.</summary>
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task BatchesWrittenByHandInEitherProtocolArePublished(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var sensorId = Sensors.NewId("wire");
        using var cts = new CancellationTokenSource(Timeouts.Default);
        await using var raw = await RawHubClient.ConnectAsync(app, await app.GetTokenAsync(TestUser.Admin), cts.Token);
        await raw.HandshakeAsync(protocol, cts.Token);

        string resultJson;
        if (protocol == Protocol.Json)
        {
            await raw.SendJsonAsync("""{"type":1,"invocationId":"1","target":"PublishBatches","arguments":[],"streamIds":["s"]}""", cts.Token);
            await raw.SendJsonAsync($$"""{"type":2,"invocationId":"s","item":[{"sensorId":"{{sensorId}}","value":1.5},null]}""", cts.Token);
            await raw.SendJsonAsync("""{"type":2,"invocationId":"s","item":null}""", cts.Token);
            await raw.SendJsonAsync("""{"type":2,"invocationId":"s","item":[]}""", cts.Token);
            await raw.SendJsonAsync($$"""{"type":2,"invocationId":"s","item":[{"sensorId":"{{sensorId}}","value":2.5,"timestamp":"2026-03-01T12:00:00Z"}]}""", cts.Token);
            await raw.SendJsonAsync("""{"type":3,"invocationId":"s"}""", cts.Token);
            resultJson = await ReadCompletionAsync(() => raw.ReadJsonMessageAsync(cts.Token), message => message);
        }
        else
        {
            await raw.SendMessagePackAsync(
                (ref MessagePackWriter w) =>
                {
                    // Invocation: [1, headers, invocationId, target, arguments, streamIds].
                    w.WriteArrayHeader(6);
                    w.Write(1);
                    w.WriteMapHeader(0);
                    w.Write("1");
                    w.Write("PublishBatches");
                    w.WriteArrayHeader(0);
                    w.WriteArrayHeader(1);
                    w.Write("s");
                },
                cts.Token);
            await SendItemAsync(raw, (ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(2);
                w.WriteMapHeader(2);
                w.Write("sensorId");
                w.Write(sensorId);
                w.Write("value");
                w.Write(1.5);
                w.WriteNil();
            }, cts.Token);
            await SendItemAsync(raw, (ref MessagePackWriter w) => w.WriteNil(), cts.Token);
            await SendItemAsync(raw, (ref MessagePackWriter w) => w.WriteArrayHeader(0), cts.Token);
            await SendItemAsync(raw, (ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(1);
                w.WriteMapHeader(3);
                w.Write("sensorId");
                w.Write(sensorId);
                w.Write("value");
                w.Write(2.5);
                w.Write("timestamp");
                w.Write(new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc));
            }, cts.Token);
            // Completion without a result: [3, headers, invocationId, 2].
            await raw.SendMessagePackAsync(
                (ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(4);
                    w.Write(3);
                    w.WriteMapHeader(0);
                    w.Write("s");
                    w.Write(2);
                },
                cts.Token);
            resultJson = await ReadCompletionAsync(() => raw.ReadMessagePackMessageAsync(cts.Token), message => MessagePackSerializer.ConvertToJson(message));
        }
        var kept = await ReadAsAdminAsync(app, sensorId, 2, cts.Token);

        using var document = JsonDocument.Parse(resultJson);
        var root = document.RootElement;
        var completion = root.ValueKind == JsonValueKind.Array ? root[4] : root.GetProperty("result");
        Assert.Equal((2, 2), (completion.GetProperty("accepted").GetInt64(), completion.GetProperty("rejected").GetInt64()));
        Assert.Equal(
            [(1L, "the item is null"), (2L, "the batch is null")],
            completion.GetProperty("rejections").EnumerateArray().Select(r => (r.GetProperty("index").GetInt64(), r.GetProperty("reason").GetString())));
        Assert.Equal([1.5, 2.5], kept.Select(r => r.Value));
        Assert.Equal(new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc), kept[1].Timestamp);
    }

    /// <summary>The batches of <paramref name="sizes"/>, each reading made from its position over all of them.</summary>
    private static ReadingInput[][] BatchesOf(int[] sizes, Func<int, ReadingInput> reading)
    {
        var position = 0;
        return [.. sizes.Select(size => Enumerable.Range(0, size).Select(_ => reading(position++)).ToArray())];
    }

    private static async Task<string> ReadCompletionAsync<T>(Func<Task<T>> read, Func<T, string> asJson)
    {
        // Pings (type 6) may come first.
        while (true)
        {
            var message = asJson(await read());
            if (message.StartsWith("[3,", StringComparison.Ordinal) || message.Contains("\"type\":3", StringComparison.Ordinal))
                return message;
        }
    }

    private static Task SendItemAsync(RawHubClient raw, RawHubClient.MessagePackWrite item, CancellationToken cancellationToken) =>
        raw.SendMessagePackAsync(
            (ref MessagePackWriter w) =>
            {
                // StreamItem: [2, headers, invocationId, item].
                w.WriteArrayHeader(4);
                w.Write(2);
                w.WriteMapHeader(0);
                w.Write("s");
                item(ref w);
            },
            cancellationToken);

    private static async Task<List<Reading>> ReadAsAdminAsync(SensorHubApplication app, string sensorId, int count, CancellationToken cancellationToken)
    {
        await using var connection = await app.ConnectAsync(Protocol.Json, cancellationToken);
        return await connection.Hub.ReadReadingsAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, count, cancellationToken);
    }

    private static async IAsyncEnumerable<T> Stream<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
            await Task.Yield();
        }
    }
}
