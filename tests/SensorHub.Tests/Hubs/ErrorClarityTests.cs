using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using SensorHub.Tests.Infrastructure.Fuzz;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// The hub fuzz's judgement (<see cref="ErrorClarity"/>, <see cref="ServerFaultLog"/>): it takes SignalR's own generic
/// messages and the server's coded refusals for clear, and fails on a leak, an unknown code, a refusal without a code,
/// or a hub call that crashed behind SignalR's generic sentence. Checked here so that the fuzz can fail.
/// </summary>
public sealed class ErrorClarityTests
{
    public static TheoryData<int, string> ClearErrors => new()
    {
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'Upload' on the server. HubException: [upload_has_writer] uploadId: upload 'x' already has a writer." },
        { (int)ErrorSource.Completion, "An error occurred on the server while streaming results. HubException: [unknown_sensor] sensorId: no sensor 'x' is known." },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'Publish' on the server." },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'Publish' on the server. HubException: Failed to bind Stream message." },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'Subscribe' on the server. HubException: Client sent 1 stream(s), Hub method expects 0." },
        { (int)ErrorSource.Completion, "Failed to invoke 'Nope' due to an error on the server. HubException: Method does not exist." },
        { (int)ErrorSource.Completion, "Failed to invoke 'Subscribe' due to an error on the server." },
        { (int)ErrorSource.Completion, "Unknown hub method 'Nope'" },
        { (int)ErrorSource.Completion, "The client attempted to invoke the non-streaming 'ListSensors' method with a streaming invocation." },
        { (int)ErrorSource.Completion, "The client attempted to invoke the streaming 'Subscribe' method with a non-streaming invocation." },
        { (int)ErrorSource.Completion, "Invocation ID 'i3' is already in use." },
        { (int)ErrorSource.Close, "Connection closed with an error." },
        { (int)ErrorSource.Handshake, "The protocol 'xml' is not supported." },
        { (int)ErrorSource.Handshake, "The server does not support version 99 of the 'json' protocol." },
        { (int)ErrorSource.Handshake, "An unexpected error occurred during connection handshake." },
        { (int)ErrorSource.Handshake, "Handshake was canceled." },
    };

    public static TheoryData<int, string, string> UnclearErrors => new()
    {
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. HubException: [invalid_argument] boom\n   at SensorHub.Server.Uploads.UploadService.FindAsync()", "   at " },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. HubException: [invalid_argument] System.NullReferenceException", "System." },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. NullReferenceException: Object reference not set.", "Exception" },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. HubException: [made_up] no such code.", "not one of SensorHubErrors.All" },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. HubException: request is required.", "without a [code]" },
        { (int)ErrorSource.Completion, "An unexpected error occurred invoking 'X' on the server. HubException: [invalid_argument] ", "no text" },
        { (int)ErrorSource.Completion, "Something went wrong.", "none of SignalR's own" },
        { (int)ErrorSource.Completion, "The value returned by the streaming method 'Subscribe' is not a ChannelReader<> or IAsyncEnumerable<>.", "none of SignalR's own" },
        { (int)ErrorSource.Close, "Connection closed with an error. InvalidDataException: The maximum message size of 1400000B was exceeded.", "Exception" },
        { (int)ErrorSource.Handshake, "Connection closed with an error.", "none of SignalR's own" },
    };

    [Theory]
    [MemberData(nameof(ClearErrors))]
    public void SignalRsOwnMessagesAndCodedRefusalsAreClear(int source, string message) =>
        Assert.Null(ErrorClarity.Problem((ErrorSource)source, message, []));

    [Theory]
    [MemberData(nameof(UnclearErrors))]
    public void LeaksUnknownCodesAndUncodedRefusalsAreNot(int source, string message, string problem) =>
        Assert.Contains(problem, ErrorClarity.Problem((ErrorSource)source, message, []), StringComparison.Ordinal);

    [Fact]
    public void AClientsOwnStreamErrorComesBackOnlyToTheClientThatSentIt()
    {
        const string message = "An unexpected error occurred invoking 'Publish' on the server. HubException: my device broke";

        Assert.Null(ErrorClarity.Problem(ErrorSource.Completion, message, ["my device broke"]));
        Assert.NotNull(ErrorClarity.Problem(ErrorSource.Completion, message, ["something else"]));
    }

    [Fact]
    public void ScrubbedTextCarriesNoMarker()
    {
        var scrubbed = ErrorClarity.Scrub("a System.Foo b microsoft.x SensorHub.Server.Y NullReferenceException    at z");

        Assert.All(ErrorClarity.Forbidden, marker => Assert.DoesNotContain(marker, scrubbed, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void AHubCallThatCrashedIsAFaultEvenThoughTheClientOnlySawSignalRsSentence()
    {
        static ServerLogEntry Failed(Exception exception) =>
            new("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.Error, "FailedInvokingHubMethod", "Failed to invoke hub method 'Upload'.", exception);

        Assert.NotNull(ServerFaultLog.Fault(Failed(new ArgumentNullException("request"))));
        Assert.NotNull(ServerFaultLog.Fault(Failed(new InvalidOperationException("Failed to bind Stream message."))));
        Assert.Null(ServerFaultLog.Fault(Failed(new HubException("[invalid_argument] x."))));
        Assert.Null(ServerFaultLog.Fault(Failed(new HubException("Failed to bind Stream message."))));
        Assert.Null(ServerFaultLog.Fault(Failed(new OperationCanceledException())));
        Assert.NotNull(ServerFaultLog.Fault(new ServerLogEntry("SensorHub.Server.Uploads.UploadJanitor", LogLevel.Error, "Crash", "boom", null)));
    }
}
