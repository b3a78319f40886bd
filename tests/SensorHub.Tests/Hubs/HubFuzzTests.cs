using SensorHub.Tests.Infrastructure;
using SensorHub.Tests.Infrastructure.Fuzz;
using Xunit.Abstractions;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// <see cref="HubFuzzTests"/> runs alone, after the parallel tests: it bounds the growth of the process's managed heap,
/// which other tests running beside it grew too (a full CI run measured 1,173 MB where the fuzz alone grows 120-200 MB).
/// </summary>
[CollectionDefinition(nameof(HubFuzzTests), DisableParallelization = true)]
public sealed class HubFuzzCollection;

/// <summary>
/// A fuzz of the hub (<see cref="HubFuzzer"/>): hostile clients send random and malformed invocations and frames with
/// tokens of every kind, and after each round the server must still serve a well-behaved client, have sent only clear
/// errors, have logged no fault, and hold nothing for the connections that went; over the run its heap stays bounded.
/// A few seconds each in CI; <c>SENSORHUB_FUZZ_SECONDS</c> runs longer, <c>SENSORHUB_FUZZ_SEED</c> replays a failure.
/// </summary>
[Collection(nameof(HubFuzzTests))]
public sealed class HubFuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_defaultDuration = TimeSpan.FromSeconds(6);

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task HostileClientsLeaveTheServerServingWithClearErrorsAndNothingHeld(Protocol protocol)
    {
        await using var fuzzer = await HubFuzzer.StartAsync(Transport.TestServer, [protocol], output);
        await fuzzer.RunAsync(FuzzSettings.Duration(s_defaultDuration), FuzzSettings.Seed());
    }

    /// <summary>
    /// The same over real Kestrel, both protocols mixed, where a client can also break the WebSocket framing under the
    /// hub protocol and send bytes that are no HTTP at all.
    /// </summary>
    [Fact]
    public async Task HostileClientsAndSocketGarbageOverKestrelLeaveTheServerServing()
    {
        await using var fuzzer = await HubFuzzer.StartAsync(Transport.Kestrel, [Protocol.Json, Protocol.MessagePack], output);
        await fuzzer.RunAsync(FuzzSettings.Duration(s_defaultDuration), FuzzSettings.Seed());
    }
}
