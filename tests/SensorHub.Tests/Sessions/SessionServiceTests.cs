using SensorHub.Contracts;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Tests.Infrastructure;
using static SensorHub.Tests.Sessions.SessionHarness;

namespace SensorHub.Tests.Sessions;

/// <summary>The session service and the in-memory store, without a server: presence, ordering, limits, ending.</summary>
public sealed class SessionServiceTests
{
    private const string Temperature = "plant-1/line-1/temperature";
    private const string Humidity = "plant-1/line-1/humidity";

    [Fact]
    public async Task CreateTrimsTheTitleDropsDuplicateSensorsAndMakesTheCallerTheOwner()
    {
        using var harness = new SessionHarness();

        var session = await harness.CreateAsync(Alice, [Temperature, Humidity, Temperature], title: "  Line 1 check \n");

        Assert.Equal("Line 1 check", session.Title);
        Assert.Equal("alice", session.Owner);
        Assert.Equal(Alice.Id, session.OwnerId);
        Assert.Equal([Temperature, Humidity], session.SensorIds);
        Assert.False(session.Private);
        Assert.True(SessionService.IsWellFormedId(session.Id));
        Assert.Equal([session], await harness.Service.ListAsync(Bob, CancellationToken.None));
    }

    [Fact]
    public async Task SnapshotComesFirstAndCountsTheJoiner()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);

        var snapshot = await alice.SnapshotAsync();

        Assert.Equal(session, snapshot.Session);
        Assert.Equal([new Participant { Id = "alice", Name = "alice", Connections = 1 }], snapshot.Participants!);
        Assert.Empty(snapshot.Annotations!);
        alice.AssertNothingPending();
    }

    [Fact]
    public async Task EachOfTwoUsersSeesTheOtherAndTheOneWhoStaysSeesTheOtherLeave()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();
        var bob = harness.Join(Bob, session.Id);

        var bobSnapshot = await bob.SnapshotAsync();
        var joined = await alice.ExpectAsync(SessionEventKinds.Joined);
        await bob.CancelAsync();
        var left = await alice.ExpectAsync(SessionEventKinds.Left);

        Assert.Equal(["alice", "bob"], bobSnapshot.Participants!.Select(p => p.Name));
        Assert.Equal(new Participant { Id = "bob", Name = "bob", Connections = 1 }, joined.Participant);
        Assert.Equal(new Participant { Id = "bob", Name = "bob", Connections = 0 }, left.Participant);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bob.Completion.WaitAsync(Timeouts.Default));
        Assert.Equal([new Participant { Id = "alice", Name = "alice", Connections = 1 }], harness.State(session.Id).Participants);
    }

    [Fact]
    public async Task TwoStreamsOfOneUserAreOneParticipantWhoLeavesWithTheLast()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();
        var bobTab1 = harness.Join(Bob, session.Id);
        await bobTab1.SnapshotAsync();
        await alice.ExpectAsync(SessionEventKinds.Joined);

        var bobTab2 = harness.Join(Bob, session.Id);
        var secondSnapshot = await bobTab2.SnapshotAsync();
        await bobTab1.CancelAsync();
        await Timeouts.WaitUntilAsync(() => harness.State(session.Id).MemberCount == 2, Timeouts.Default, "bob's first stream left");
        // Something after the first leave, so that a stray 'left' would come before it.
        await harness.AnnotateAsync(Alice, session.Id, "still here?");
        await alice.ExpectAsync(SessionEventKinds.Annotated);
        await bobTab2.CancelAsync();
        var left = await alice.ExpectAsync(SessionEventKinds.Left);

        Assert.Contains(new Participant { Id = "bob", Name = "bob", Connections = 2 }, secondSnapshot.Participants!);
        Assert.Equal(2, secondSnapshot.Participants!.Length);
        Assert.Equal("bob", left.Participant!.Name);
        alice.AssertNothingPending();
    }

    [Fact]
    public async Task AnAnnotationReachesEveryStreamOnceAndALateJoinerSeesItInTheSnapshot()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature]);
        await using var alice = harness.Join(Alice, session.Id);
        await using var bob = harness.Join(Bob, session.Id);
        await alice.SnapshotAsync();
        await bob.SnapshotAsync();

        var annotation = await harness.AnnotateAsync(Bob, session.Id, "  spike here ", Temperature, 42);
        await using var late = harness.Join(Vera, session.Id);
        var lateSnapshot = await late.SnapshotAsync();

        Assert.Equal("spike here", annotation.Text);
        Assert.Equal("bob", annotation.Author);
        Assert.Equal(harness.Time.GetUtcNow().UtcDateTime, annotation.Time);
        Assert.Equal(DateTimeKind.Utc, annotation.Time.Kind);
        foreach (var stream in new[] { alice, bob })
        {
            var events = new List<SessionEvent>();
            while (events.Count == 0 || events[^1].Kind != SessionEventKinds.Joined || events[^1].Participant!.Name != "vera")
                events.Add(await stream.NextAsync());
            Assert.Equal([annotation], events.Where(e => e.Kind == SessionEventKinds.Annotated).Select(e => e.Annotation));
        }
        Assert.Equal([annotation], lateSnapshot.Annotations!);
        late.AssertNothingPending();
    }

    [Fact]
    public async Task JoinsWhileOthersAnnotateSeeNoGapAndNoDuplicate()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { AnnotationRateLimit = 1_000_000, RecentAnnotations = 50, EventBufferCapacity = 1_000_000 });
        var session = await harness.CreateAsync(Alice);
        await using var observer = harness.Join(Root, session.Id);
        await observer.SnapshotAsync();
        var made = 0;
        using var stop = new CancellationTokenSource();

        // Annotations go on, from two users, for as long as the joins take.
        var annotating = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await harness.AnnotateAsync(made % 2 == 0 ? Alice : Bob, session.Id, $"note {made}");
                Interlocked.Increment(ref made);
                await Task.Yield();
            }
        });
        var joiners = new List<(SessionStream Stream, SessionEvent Snapshot)>();
        try
        {
            await Timeouts.WaitUntilAsync(() => Volatile.Read(ref made) >= 10, Timeouts.Default, "annotations began");
            for (var j = 0; j < 40; j++)
            {
                var joiner = harness.Join(new SensorHubUser($"user-{j}", $"user-{j}", [Roles.Viewer], null), session.Id);
                joiners.Add((joiner, await joiner.SnapshotAsync()));
            }
            await Timeouts.WaitUntilAsync(() => Volatile.Read(ref made) >= 2 * harness.Options.RecentAnnotations, Timeouts.Default, "enough annotations");
            await stop.CancelAsync();
            await annotating.WaitAsync(Timeouts.Default);
            await harness.Service.EndAsync(Alice, session.Id, CancellationToken.None);

            var all = AnnotationIds(await observer.RestAsync());
            Assert.Equal(made, all.Count);
            foreach (var (stream, snapshot) in joiners)
            {
                // The snapshot's annotations and then the annotated events: a run that ends with the last annotation,
                // with nothing missing and nothing twice where the one meets the other.
                var seen = snapshot.Annotations!.Select(a => a.Id).Concat(AnnotationIds(await stream.RestAsync())).ToList();
                Assert.True(seen.Count >= harness.Options.RecentAnnotations, $"a joiner saw only {seen.Count} annotations");
                Assert.Equal(all.Skip(all.Count - seen.Count), seen);
            }
        }
        finally
        {
            foreach (var (stream, _) in joiners)
                await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task SnapshotCarriesOnlyTheMostRecentAnnotationsOldestFirst()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { RecentAnnotations = 3, AnnotationRateLimit = 100 });
        var session = await harness.CreateAsync(Alice);
        for (var i = 0; i < 5; i++)
            await harness.AnnotateAsync(Alice, session.Id, $"note {i}");

        await using var bob = harness.Join(Bob, session.Id);
        var snapshot = await bob.SnapshotAsync();

        Assert.Equal(["note 2", "note 3", "note 4"], snapshot.Annotations!.Select(a => a.Text));
    }

    [Fact]
    public async Task EndingSendsEndedCompletesEveryStreamAndReleasesTheState()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        var alice = harness.Join(Alice, session.Id);
        var bob1 = harness.Join(Bob, session.Id);
        var bob2 = harness.Join(Bob, session.Id);
        foreach (var stream in new[] { alice, bob1, bob2 })
            await stream.SnapshotAsync();

        await harness.Service.EndAsync(Alice, session.Id, CancellationToken.None);

        foreach (var stream in new[] { alice, bob1, bob2 })
        {
            var rest = await stream.RestAsync();
            Assert.Equal(SessionEventKinds.Ended, rest[^1].Kind);
            Assert.DoesNotContain(rest, e => e.Kind == SessionEventKinds.Left);
        }
        Assert.Equal(0, harness.Store.Count);
        Assert.Null(harness.Store.Find(session.Id));
        Assert.Empty(await harness.Service.ListAsync(Root, CancellationToken.None));
    }

    [Fact]
    public async Task AnEndedSessionIsUnknownToEveryone()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await harness.Service.EndAsync(Alice, session.Id, CancellationToken.None);
        var unknown = $"sessionId: no session '{session.Id}' is known.";

        await using var join = harness.Join(Alice, session.Id);
        Assert.Equal(unknown, (await Assert.ThrowsAsync<SessionException>(() => join.Completion)).Message);
        Assert.Equal(unknown, (await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "hello"))).Message);
        Assert.Equal(unknown, (await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(Root, session.Id, CancellationToken.None))).Message);
        Assert.Equal(unknown, (await Assert.ThrowsAsync<SessionException>(
            () => harness.Service.SetSensorsAsync(Alice, session.Id, [Humidity], CancellationToken.None))).Message);
    }

    [Fact]
    public async Task PrivateSessionIsUnknownToTheUninvitedAndOpenToTheInvitedTheOwnerAndAdmins()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, isPrivate: true, invited: ["vera"]);
        var neverMade = Guid.NewGuid().ToString("N");

        await using var bob = harness.Join(Bob, session.Id);
        var refused = await Assert.ThrowsAsync<SessionException>(() => bob.Completion);
        await using var nobody = harness.Join(Bob, neverMade);
        var unknown = await Assert.ThrowsAsync<SessionException>(() => nobody.Completion);
        var annotate = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Bob, session.Id, "let me in"));

        // Exactly as unknown as an id that never existed.
        Assert.Equal(unknown.Message.Replace(neverMade, session.Id, StringComparison.Ordinal), refused.Message);
        Assert.Equal(refused.Message, annotate.Message);
        Assert.Empty(await harness.Service.ListAsync(Bob, CancellationToken.None));
        foreach (var user in new[] { Alice, Vera, Root })
        {
            Assert.Equal([session], await harness.Service.ListAsync(user, CancellationToken.None));
            await using var stream = harness.Join(user, session.Id);
            Assert.Equal(session, (await stream.SnapshotAsync()).Session);
        }
        Assert.Empty(harness.State(session.Id).Participants);
    }

    [Fact]
    public async Task SettingSensorsTellsEveryoneAndOnlyTheOwnerOrAnAdminMay()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature]);
        await using var bob = harness.Join(Bob, session.Id);
        await bob.SnapshotAsync();

        var refused = await Assert.ThrowsAsync<SessionException>(
            () => harness.Service.SetSensorsAsync(Bob, session.Id, [Humidity], CancellationToken.None));
        var changed = await harness.Service.SetSensorsAsync(Alice, session.Id, [Humidity, Temperature], CancellationToken.None);
        var byAdmin = await harness.Service.SetSensorsAsync(Root, session.Id, [Humidity], CancellationToken.None);

        Assert.StartsWith("Not allowed: only its owner or an admin may change the sensors", refused.Message, StringComparison.Ordinal);
        Assert.Equal([Humidity, Temperature], changed.SensorIds);
        Assert.Equal([Humidity, Temperature], (await bob.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal([Humidity], (await bob.ExpectAsync(SessionEventKinds.SensorsChanged)).SensorIds!);
        Assert.Equal([Humidity], byAdmin.SensorIds);
        Assert.Equal([Humidity], (await harness.Service.ListAsync(Bob, CancellationToken.None))[0].SensorIds);
        // An annotation may name only a sensor that is the session's now.
        var stale = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Bob, session.Id, "old sensor", Temperature));
        Assert.Equal($"input.sensorId: sensor '{Temperature}' is not one of the sensors of session '{session.Id}'.", stale.Message);
    }

    [Fact]
    public async Task OnlyTheOwnerOrAnAdminMayEndASession()
    {
        using var harness = new SessionHarness();
        var first = await harness.CreateAsync(Alice);
        var second = await harness.CreateAsync(Alice);

        var refused = await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(Bob, first.Id, CancellationToken.None));
        var viewer = await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(Vera, first.Id, CancellationToken.None));
        Assert.Equal(2, harness.Store.Count);
        await harness.Service.EndAsync(Alice, first.Id, CancellationToken.None);
        await harness.Service.EndAsync(Root, second.Id, CancellationToken.None);

        Assert.Equal($"Not allowed: only its owner or an admin may end session '{first.Id}'.", refused.Message);
        Assert.Equal(refused.Message, viewer.Message);
        Assert.Equal(0, harness.Store.Count);
    }

    [Fact]
    public async Task SensorsTheCallerMayNotReadAreRefused()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice, [Temperature]);

        var create = await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Plant1Operator, [Temperature, "plant-2/line-1/power"]));
        var annotate = await Assert.ThrowsAsync<SessionException>(
            () => harness.AnnotateAsync(Plant1Operator, session.Id, "there", "plant-2/line-1/power"));
        var mine = await harness.CreateAsync(Plant1Operator, [Temperature]);
        var setSensors = await Assert.ThrowsAsync<SessionException>(
            () => harness.Service.SetSensorsAsync(Plant1Operator, mine.Id, ["plant-2/line-1/power"], CancellationToken.None));
        await harness.AnnotateAsync(Plant1Operator, session.Id, "here", Temperature);

        Assert.Equal("Not allowed: your token may not read sensor 'plant-2/line-1/power' (request.sensorIds[1]).", create.Message);
        Assert.Equal("Not allowed: your token may not read sensor 'plant-2/line-1/power' (input.sensorId).", annotate.Message);
        Assert.Equal("Not allowed: your token may not read sensor 'plant-2/line-1/power' (sensorIds[0]).", setSensors.Message);
        Assert.Equal([Temperature], harness.Store.Find(mine.Id)!.Stored.Info.SensorIds);
    }

    [Fact]
    public async Task OpenSessionsPerUserAreLimitedAndEndedOnesDoNotCount()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { MaxOpenSessionsPerUser = 2 });
        var first = await harness.CreateAsync(Alice);
        await harness.CreateAsync(Alice);

        var refused = await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Alice));
        await harness.CreateAsync(Bob);
        await harness.Service.EndAsync(Alice, first.Id, CancellationToken.None);
        await harness.CreateAsync(Alice);

        Assert.Equal("Too many open sessions: you already own 2, the most allowed. End one before creating another.", refused.Message);
        Assert.Equal(4 - 1, harness.Store.Count);
    }

    [Fact]
    public async Task ParticipantsPerSessionAreLimitedButAParticipantsSecondStreamIsNot()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { MaxParticipantsPerSession = 2 });
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        // Alice is in before Bob joins: each stream joins on a task of its own, so joined at once Bob could come first,
        // and Alice's snapshot would hold him instead of a "joined".
        await alice.SnapshotAsync();
        await using var bob = harness.Join(Bob, session.Id);
        await bob.SnapshotAsync();
        await alice.ExpectAsync(SessionEventKinds.Joined);

        await using var vera = harness.Join(Vera, session.Id);
        var full = await Assert.ThrowsAsync<SessionException>(() => vera.Completion);
        await using var bobAgain = harness.Join(Bob, session.Id);
        await bobAgain.SnapshotAsync();
        await bob.CancelAsync();
        await bobAgain.CancelAsync();
        await alice.ExpectAsync(SessionEventKinds.Left);
        await using var veraLater = harness.Join(Vera, session.Id);
        await veraLater.SnapshotAsync();

        Assert.Equal($"Session '{session.Id}' is full: it already has 2 participants, the most allowed.", full.Message);
        Assert.Equal("vera", (await alice.ExpectAsync(SessionEventKinds.Joined)).Participant!.Name);
        alice.AssertNothingPending();
    }

    [Fact]
    public async Task AJoinThatFailsBeforeItsFirstEventLeavesAgainAndFreesItsPlace()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { MaxParticipantsPerSession = 2 });
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();
        // Cancelled before the first step: the generator joins, then its first wait for an event throws.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var bob = harness.Service.JoinAsync(Bob, session.Id, cancelled.Token).GetAsyncEnumerator();
        try
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bob.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default));
        }
        finally
        {
            await bob.DisposeAsync();
        }

        // Bob was in (the others saw him come), and is gone again: his presence, his buffer, his place under the limit.
        Assert.Equal("bob", (await alice.ExpectAsync(SessionEventKinds.Joined)).Participant!.Name);
        Assert.Equal(new Participant { Id = "bob", Name = "bob", Connections = 0 }, (await alice.ExpectAsync(SessionEventKinds.Left)).Participant);
        Assert.Equal([new Participant { Id = "alice", Name = "alice", Connections = 1 }], harness.State(session.Id).Participants);
        Assert.Equal(1, harness.State(session.Id).MemberCount);
        await using var vera = harness.Join(Vera, session.Id);
        await vera.SnapshotAsync();
    }

    [Fact]
    public async Task AnnotationRateIsLimitedPerUserPerSession()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { AnnotationRateLimit = 3, AnnotationRatePeriod = TimeSpan.FromSeconds(1) });
        var session = await harness.CreateAsync(Alice);
        var other = await harness.CreateAsync(Alice);
        await using var watcher = harness.Join(Root, session.Id);
        await watcher.SnapshotAsync();

        for (var i = 0; i < 3; i++)
            await harness.AnnotateAsync(Alice, session.Id, $"burst {i}");
        var refused = await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "one too many"));
        await harness.AnnotateAsync(Bob, session.Id, "bob has his own allowance");
        await harness.AnnotateAsync(Alice, other.Id, "and so has each session");
        harness.Time.Advance(TimeSpan.FromMilliseconds(340));
        await harness.AnnotateAsync(Alice, session.Id, "one more a third of a second later");
        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "but only one"));

        // One annotation comes back every third of a second (on the fake clock, no time has passed).
        Assert.Equal("Too many annotations: at most 3 per 1 s are allowed in one session; retry after 334 ms.", refused.Message);
        var texts = new List<string>();
        for (var i = 0; i < 5; i++)
            texts.Add((await watcher.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
        Assert.DoesNotContain("one too many", texts);
        Assert.DoesNotContain("but only one", texts);
        watcher.AssertNothingPending();
    }

    [Fact]
    public async Task AStreamThatFallsBehindFailsAfterWhatItHadAndTheOthersGoOn()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { EventBufferCapacity = 5, AnnotationRateLimit = 100 });
        var session = await harness.CreateAsync(Alice);
        await using var bob = harness.Join(Bob, session.Id);
        await bob.SnapshotAsync();
        // Alice's stream is read by hand: after its snapshot, not at all.
        var alice = harness.Service.JoinAsync(Alice, session.Id, CancellationToken.None).GetAsyncEnumerator();
        try
        {
            Assert.True(await alice.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default));
            Assert.Equal(SessionEventKinds.Snapshot, alice.Current.Kind);
            await bob.ExpectAsync(SessionEventKinds.Joined);

            // Bob keeps up (capacity 5 holds for him too): each annotation is made once he has the one before.
            for (var i = 0; i < 8; i++)
            {
                await harness.AnnotateAsync(Root, session.Id, $"note {i}");
                Assert.Equal($"note {i}", (await bob.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
            }
            var read = new List<string>();
            var failure = await Assert.ThrowsAsync<SessionException>(async () =>
            {
                while (await alice.MoveNextAsync().AsTask().WaitAsync(Timeouts.Default))
                    read.Add(alice.Current.Annotation!.Text);
            });

            Assert.Equal(["note 0", "note 1", "note 2", "note 3", "note 4"], read);
            Assert.StartsWith($"This stream fell behind session '{session.Id}': more than 5 events", failure.Message, StringComparison.Ordinal);
            // Its generator's finally ran when it threw: alice is gone.
            Assert.Equal("alice", (await bob.ExpectAsync(SessionEventKinds.Left)).Participant!.Name);
        }
        finally
        {
            await alice.DisposeAsync();
        }
    }

    [Fact]
    public async Task StreamsCompleteWhenTheServerStopsAndLaterJoinsGetASnapshotOnly()
    {
        using var harness = new SessionHarness();
        var session = await harness.CreateAsync(Alice);
        await using var alice = harness.Join(Alice, session.Id);
        await alice.SnapshotAsync();

        harness.Stop();

        Assert.Empty(await alice.RestAsync());
        await using var bob = harness.Join(Bob, session.Id);
        await bob.SnapshotAsync();
        Assert.Empty(await bob.RestAsync());
        await Timeouts.WaitUntilAsync(() => harness.State(session.Id).Participants.Length == 0, Timeouts.Default, "everyone left");
    }

    [Fact]
    public async Task ARefusedCallChangesNothing()
    {
        using var harness = new SessionHarness(new LiveSessionOptions { MaxAnnotationLength = 10 });
        var session = await harness.CreateAsync(Alice, [Temperature]);
        await using var watcher = harness.Join(Bob, session.Id);
        await watcher.SnapshotAsync();

        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, new string('x', 11)));
        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "   "));
        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "seq", sequence: 3));
        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "neg", Temperature, -1));
        await Assert.ThrowsAsync<SessionException>(() => harness.AnnotateAsync(Alice, session.Id, "other", Humidity));
        await Assert.ThrowsAsync<SessionException>(() => harness.Service.SetSensorsAsync(Alice, session.Id, ["bad sensor"], CancellationToken.None));
        await Assert.ThrowsAsync<SessionException>(() => harness.Service.SetSensorsAsync(Alice, session.Id, null, CancellationToken.None));
        await Assert.ThrowsAsync<SessionException>(() => harness.Service.EndAsync(Bob, session.Id, CancellationToken.None));
        await Assert.ThrowsAsync<SessionException>(() => harness.CreateAsync(Alice, title: new string('t', 201)));

        await using var late = harness.Join(Vera, session.Id);
        var snapshot = await late.SnapshotAsync();
        Assert.Equal(session, snapshot.Session);
        Assert.Empty(snapshot.Annotations!);
        Assert.Equal(1, harness.Store.Count);
        await harness.AnnotateAsync(Alice, session.Id, "fine", Temperature, 0);
        await watcher.ExpectAsync(SessionEventKinds.Joined);
        Assert.Equal("fine", (await watcher.ExpectAsync(SessionEventKinds.Annotated)).Annotation!.Text);
    }

    private static List<string> AnnotationIds(IEnumerable<SessionEvent> events) =>
        events.Where(e => e.Kind == SessionEventKinds.Annotated).Select(e => e.Annotation!.Id).ToList();
}
