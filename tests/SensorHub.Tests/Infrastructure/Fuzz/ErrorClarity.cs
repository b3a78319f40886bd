using System.Text.RegularExpressions;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>Where a client met an error.</summary>
internal enum ErrorSource
{
    /// <summary>The handshake's answer (<c>{"error": "..."}</c>).</summary>
    Handshake,

    /// <summary>A completion with an error: a call's, or a stream's end.</summary>
    Completion,

    /// <summary>The close message before the server closed the connection.</summary>
    Close,
}

/// <summary>
/// Whether an error a client received is clear: one of SignalR's own generic messages (with detailed errors off, the
/// server's setting), or SignalR's words around a <c>HubException</c> of the server's whose text starts with one of
/// <see cref="SensorHubErrors.All"/>; and never a stack trace or the name of a type inside the server.
/// </summary>
/// <remarks>
/// SignalR's messages, read in its source (<c>DefaultHubDispatcher</c>, <c>HubConnectionHandler</c>,
/// <c>HubConnectionContext.HandshakeAsync</c>, <c>ErrorMessageHelper</c>): with detailed errors off, an exception's
/// type and message are appended (<c>" HubException: …"</c>) only when it is a <c>HubException</c>; everything else
/// stays the generic sentence. Where SignalR echoes what the client sent (a method name, an invocation id, a protocol
/// name), the fuzz never sends one of the <see cref="Forbidden"/> markers (<see cref="Scrub"/>), so that an echo is
/// never taken for a leak.
/// </remarks>
internal static partial class ErrorClarity
{
    /// <summary>What must never reach a client: a stack trace's lines, the server's or the framework's type names, an exception's name.</summary>
    public static readonly IReadOnlyList<string> Forbidden = ["   at ", "SensorHub.Server", "System.", "Microsoft.", "Exception"];

    private const string HubExceptionMarker = " HubException: ";

    /// <summary>
    /// The HubExceptions SignalR itself raises, whose text follows <see cref="HubExceptionMarker"/> without a code: an
    /// unknown method's binding, stream ids that do not fit the method, and a client-to-server stream item that cannot
    /// be deserialized (which ends the stream, and so the method reading it).
    /// </summary>
    [GeneratedRegex(@"^(Method does not exist\.|Client sent \d+ stream\(s\), Hub method expects \d+\.|Failed to bind Stream message\.)$", RegexOptions.Singleline)]
    private static partial Regex SignalRsOwnHubException();

    // Completions. The sentences are SignalR's; '.*' is what it echoes of the client's message.
    [GeneratedRegex(@"^Unknown hub method '.*'$", RegexOptions.Singleline)]
    private static partial Regex UnknownMethod();

    [GeneratedRegex(@"^Failed to invoke '.*' due to an error on the server\.$", RegexOptions.Singleline)]
    private static partial Regex BindingFailed();

    [GeneratedRegex(@"^An unexpected error occurred invoking '.*' on the server\.$", RegexOptions.Singleline)]
    private static partial Regex InvocationFailed();

    [GeneratedRegex(@"^An error occurred on the server while streaming results\.$", RegexOptions.Singleline)]
    private static partial Regex StreamFailed();

    [GeneratedRegex(@"^The client attempted to invoke the (non-)?streaming '.*' method with a (non-)?streaming invocation\.$", RegexOptions.Singleline)]
    private static partial Regex WrongInvocationKind();

    [GeneratedRegex(@"^Invocation ID '.*' is already in use\.$", RegexOptions.Singleline)]
    private static partial Regex InvocationIdInUse();

    // The close message.
    [GeneratedRegex(@"^Connection closed with an error\.$", RegexOptions.Singleline)]
    private static partial Regex ConnectionClosed();

    // The handshake's answers.
    [GeneratedRegex(
        @"^(Handshake was canceled\.|The protocol '.*' is not supported\.|The server does not support version -?\d+ of the '.*' protocol\.|An unexpected error occurred during connection handshake\.)$",
        RegexOptions.Singleline)]
    private static partial Regex HandshakeFailed();

    /// <summary>Why <paramref name="message"/> is not a clear error from <paramref name="source"/>, or <see langword="null"/> when it is.</summary>
    /// <param name="source">Where the client met it.</param>
    /// <param name="message">The error's text.</param>
    /// <param name="echoes">
    /// Errors the client itself sent in completions of its client-to-server streams: SignalR ends such a stream with a
    /// HubException of the client's text, and the method reading the stream fails with it, so the client gets its own
    /// words back after <c>HubException: </c>.
    /// </param>
    public static string? Problem(ErrorSource source, string message, IReadOnlyCollection<string> echoes)
    {
        var withoutHubException = message.Replace(HubExceptionMarker, " ", StringComparison.Ordinal);
        if (Forbidden.FirstOrDefault(marker => withoutHubException.Contains(marker, StringComparison.Ordinal)) is { } leak)
            return $"it contains '{leak}' (a stack trace or an internal name)";

        var marker = message.IndexOf(HubExceptionMarker, StringComparison.Ordinal);
        var sentence = marker < 0 ? message : message[..marker];
        var detail = marker < 0 ? null : message[(marker + HubExceptionMarker.Length)..];

        var shapes = source switch
        {
            ErrorSource.Handshake => new[] { HandshakeFailed() },
            ErrorSource.Close => new[] { ConnectionClosed() },
            _ => new[] { UnknownMethod(), BindingFailed(), InvocationFailed(), StreamFailed(), WrongInvocationKind(), InvocationIdInUse() },
        };
        if (!shapes.Any(shape => shape.IsMatch(sentence)))
            return $"it is none of SignalR's own {source} messages";
        if (detail is null)
            return null;
        // Only these sentences carry an exception's message, and only a HubException's.
        if (!(BindingFailed().IsMatch(sentence) || InvocationFailed().IsMatch(sentence) || StreamFailed().IsMatch(sentence) || ConnectionClosed().IsMatch(sentence)))
            return "SignalR never puts a HubException after this sentence";
        if (SignalRsOwnHubException().IsMatch(detail) || (InvocationFailed().IsMatch(sentence) && echoes.Contains(detail)))
            return null;
        var code = SensorHubErrors.CodeOf(detail);
        if (code is null || !detail.StartsWith($"[{code}] ", StringComparison.Ordinal))
            return "a HubException of the server's without a [code] at its start";
        if (!SensorHubErrors.All.Contains(code))
            return $"its code '{code}' is not one of SensorHubErrors.All";
        if (detail.Length <= code.Length + 3)
            return "its code is followed by no text that names the problem";
        return null;
    }

    /// <summary><paramref name="text"/> without any <see cref="Forbidden"/> marker, for what the fuzz sends (and the server may echo).</summary>
    public static string Scrub(string text)
    {
        foreach (var marker in Forbidden)
        {
            if (text.Contains(marker, StringComparison.OrdinalIgnoreCase))
                text = text.Replace(marker, "~", StringComparison.OrdinalIgnoreCase);
        }
        return text;
    }
}
