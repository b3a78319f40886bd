using System.Runtime.CompilerServices;
using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>The SDK's two publish calls: batches numbered over the whole stream, and neither resumed after a drop.</summary>
public sealed class ClientPublishTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    public static TheoryData<Protocol, string> ProtocolsAndMethods
    {
        get
        {
            var data = new TheoryData<Protocol, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                data.Add(protocol, SensorHubMethods.Publish);
                data.Add(protocol, SensorHubMethods.PublishBatches);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task PublishBatchesAsyncPublishesInOrderAndNumbersRejectionsOverTheWholeStream(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId("sdk-batches");
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        ReadingInput Good(int value) => new() { SensorId = sensorId, Value = value };

        var result = await harness.Client.PublishBatchesAsync(
            Stream<ReadingInput[]>([[Good(0), Good(1), Good(2)], [new ReadingInput { SensorId = "bad id", Value = 3 }, Good(4)], [], [Good(5)]]),
            cts.Token);
        var readings = new List<Reading>();
        await foreach (var reading in harness.Client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, cts.Token))
        {
            readings.Add(reading);
            if (readings.Count == 5)
                break;
        }

        Assert.Equal((5L, 1L), (result.Accepted, result.Rejected));
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((3L, "bad id", SensorHubErrors.InvalidArgument), (rejection.Index, rejection.SensorId, rejection.Code));
        Assert.Equal([0.0, 1, 2, 4, 5], readings.Select(r => r.Value));
        Sensors.AssertConsecutive(readings);
    }

    [Theory]
    [MemberData(nameof(ProtocolsAndMethods))]
    public async Task ADropFailsThePublishCallAndNothingIsPublishedTwice(Protocol protocol, string method)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId("sdk-drop");
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ReadingInput[] first = [.. Enumerable.Range(0, 3).Select(i => new ReadingInput { SensorId = sensorId, Value = i })];

        // The stream sends three readings, then waits: the connection drops while it is open.
        var call = method == SensorHubMethods.Publish
            ? harness.Client.PublishAsync(ThenWait(first, release.Task))
            : harness.Client.PublishBatchesAsync(ThenWait([first], release.Task));
        await Timeouts.WaitUntilAsync(async () => await app.Engine.FindSensorAsync(sensorId, CancellationToken.None) is { LastValue: 2 },
            Timeouts.Default, "the first readings are published");
        harness.Drop();
        var error = await Record.ExceptionAsync(() => call.WaitAsync(Timeouts.Default));
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
        release.TrySetResult();
        var sensor = await app.Engine.FindSensorAsync(sensorId, CancellationToken.None);

        // Failed, rather than tried again on the new connection (which would have sent the three readings again).
        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
        Assert.IsNotType<SensorHubServerException>(error);
        Assert.Equal(3, sensor!.LastSequence - sensor.FirstSequence + 1);
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

    /// <summary>The items, then nothing until <paramref name="release"/> completes or the client cancels the stream.</summary>
    private static async IAsyncEnumerable<T> ThenWait<T>(IEnumerable<T> items, Task release, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in Stream(items, cancellationToken))
            yield return item;
        await release.WaitAsync(cancellationToken);
    }
}
