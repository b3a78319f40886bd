using SensorHub.Client;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Client;

/// <summary>An SDK join outlives a dropped connection: it joins again and passes on the fresh snapshot.</summary>
public sealed class ClientSessionTests(ClientFixture apps) : IClassFixture<ClientFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task JoinRejoinsAfterADropAndEndsWithTheSession(Protocol protocol)
    {
        var app = apps.Default;
        var sensorId = Sensors.NewId();
        await app.Engine.PublishAsync(sensorId, 1);
        await using var harness = await ClientHarness.StartAsync(app, protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var session = await harness.Client.CreateSessionAsync(
            new CreateSessionRequest { Title = "drop test", SensorIds = [sensorId] }, cts.Token).WaitAsync(Timeouts.Default);
        Assert.Contains(await harness.Client.ListSessionsAsync(cts.Token).WaitAsync(Timeouts.Default), s => s.Id == session.Id);
        var events = new List<SessionEvent>();
        int Count(string kind)
        {
            lock (events)
                return events.Count(e => e.Kind == kind);
        }

        var consumer = Task.Run(async () =>
        {
            await foreach (var e in harness.Client.JoinSessionAsync(session.Id, cts.Token))
            {
                lock (events)
                    events.Add(e);
            }
        });
        await Timeouts.WaitUntilAsync(() => Count(SessionEventKinds.Snapshot) == 1, Timeouts.Default, "the first snapshot");
        await harness.Client.AnnotateAsync(session.Id, new AnnotationInput { Text = "before" }, cts.Token).WaitAsync(Timeouts.Default);
        await Timeouts.WaitUntilAsync(() => Count(SessionEventKinds.Annotated) == 1, Timeouts.Default, "the first annotation");

        harness.Drop();
        await Timeouts.WaitUntilAsync(() => Count(SessionEventKinds.Snapshot) == 2, Timeouts.Default, "the snapshot of the rejoin");
        await harness.Client.AnnotateAsync(session.Id, new AnnotationInput { Text = "after" }, cts.Token).WaitAsync(Timeouts.Default);
        await Timeouts.WaitUntilAsync(() => Count(SessionEventKinds.Annotated) == 2, Timeouts.Default, "the second annotation");
        await harness.Client.EndSessionAsync(session.Id, cts.Token).WaitAsync(Timeouts.Default);
        await consumer.WaitAsync(Timeouts.Default);

        List<SessionEvent> seen;
        lock (events)
            seen = [.. events];
        var rejoin = seen.Where(e => e.Kind == SessionEventKinds.Snapshot).Last();
        Assert.Equal(["before"], rejoin.Annotations!.Select(a => a.Text));
        Assert.Equal(["before", "after"], seen.Where(e => e.Kind == SessionEventKinds.Annotated).Select(e => e.Annotation!.Text));
        Assert.Equal(SessionEventKinds.Ended, seen[^1].Kind);
        await harness.WaitForChangeAsync(ConnectionChange.Reconnected);
    }
}
