using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>Leaving an SDK subscription ends the server's generator: the SDK cancels the call, not only the loop.</summary>
public sealed class ClientStreamLifetimeTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task BreakingOutOfTheLoopEndsTheServerGenerator(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        var first = (await app.Engine.PublishAsync(sensorId, 3))[0].Sequence;
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var baseline = app.Activity.ActiveStreams;
        using var cts = new CancellationTokenSource(Timeouts.Default);
        long during = -1;

        await foreach (var reading in harness.Client.SubscribeAsync(sensorId, new SubscribeOptions { FromSequence = first }, cts.Token))
        {
            during = app.Activity.ActiveStreams;
            if (reading.Sequence == first + 1)
                break;
        }

        Assert.Equal(baseline + 1, during);
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == baseline, Timeouts.GeneratorEnd, "the generator ended after break");
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task CancellingTheTokenEndsTheServerGenerator(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        var baseline = app.Activity.ActiveStreams;
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var consumer = Task.Run(async () =>
        {
            await foreach (var _ in harness.Client.SubscribeBatchesAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, cts.Token))
                first.TrySetResult();
        });
        await first.Task.WaitAsync(Timeouts.Default);
        Assert.Equal(baseline + 1, app.Activity.ActiveStreams);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.WaitAsync(Timeouts.Default));
        await Timeouts.WaitUntilAsync(() => app.Activity.ActiveStreams == baseline, Timeouts.GeneratorEnd, "the generator ended after cancel");
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AFirstSubscribeToAnUnknownSensorFailsAtOnceWithItsCode(Protocol protocol)
    {
        // The patience for unknown sensors (30 s by default) is longer than the test's timeout: it must not apply.
        await using var harness = await ClientHarness.StartAsync(apps.Default, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var error = await Assert.ThrowsAsync<SensorHubServerException>(async () =>
        {
            await foreach (var _ in harness.Client.SubscribeAsync(Sensors.NewId(), null, cts.Token))
            {
            }
        }).WaitAsync(Timeouts.Default);

        Assert.Equal(SensorHubErrors.UnknownSensor, error.ErrorCode);
        Assert.IsAssignableFrom<Microsoft.AspNetCore.SignalR.HubException>(error);
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.RetryingRefusal));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ARefusedSubscriptionIsNotRetriedAndCarriesItsCode(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        var elsewhere = new TestUser("vic", [Roles.Viewer], ["elsewhere/"]);
        await using var harness = await ClientHarness.StartAsync(app, protocol, elsewhere);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        var error = await Assert.ThrowsAsync<SensorHubServerException>(async () =>
        {
            await foreach (var _ in harness.Client.SubscribeBatchesAsync(sensorId, new SubscribeOptions { FromSequence = 0 }, cts.Token))
            {
            }
        }).WaitAsync(Timeouts.Default);

        Assert.Equal(SensorHubErrors.NotAllowed, error.ErrorCode);
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.RetryingRefusal));
        Assert.Equal(0, harness.CountLogs(ClientLogEvents.Resuming));
    }
}
