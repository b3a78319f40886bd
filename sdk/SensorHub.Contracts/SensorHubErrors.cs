namespace SensorHub.Contracts;

/// <summary>
/// The stable codes of the errors the server raises on purpose, and where a client finds them. Clients decide by
/// code, never by the English text, which may change.
/// </summary>
/// <remarks>
/// <para>
/// Every such error is a SignalR <c>HubException</c> whose message starts with the code in square brackets and a
/// space: <c>[unknown_sensor] sensorId: no sensor 'x' is known.</c> SignalR puts its own words in front of it, so a
/// client receives, for instance, <c>An error occurred on the server while streaming results. HubException:
/// [unknown_sensor] sensorId: …</c> (a stream's error) or <c>An unexpected error occurred invoking 'Upload' on the
/// server. HubException: [upload_has_writer] …</c> (a call's). The code is therefore the bracketed word at the very
/// start of the message, or else right after its first <c>HubException: </c>; <see cref="CodeOf"/> reads it. The
/// start is looked at first because the text after the code may itself mention <c>HubException: </c>, and SignalR's
/// own words never start with <c>[</c>.
/// </para>
/// <para>A code is lowercase ASCII letters, digits and <c>_</c>. Codes are never renamed or reused for another meaning.</para>
/// </remarks>
public static class SensorHubErrors
{
    /// <summary>An argument is missing, malformed or out of its range; the message names it. Retrying the same call fails again.</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>The caller's roles, sensor prefixes or ownership do not allow the call.</summary>
    public const string NotAllowed = "not_allowed";

    /// <summary>A well-formed sensor id that no one has published to (yet).</summary>
    public const string UnknownSensor = "unknown_sensor";

    /// <summary>An upload id that is unknown, or an upload the caller may not see.</summary>
    public const string UnknownUpload = "unknown_upload";

    /// <summary>A session id that is unknown, ended, or private to others: all three answer alike.</summary>
    public const string UnknownSession = "unknown_session";

    /// <summary>The connection already holds <c>MaxStreamsPerConnection</c> server-to-client streams.</summary>
    public const string TooManyStreams = "too_many_streams";

    /// <summary>The connection already runs <c>MaxUploadsPerConnection</c> <c>Upload</c> streams.</summary>
    public const string TooManyUploads = "too_many_uploads";

    /// <summary>The server runs its most work of this kind at once (<c>MaxConcurrentUploads</c>); try again later.</summary>
    public const string ServerBusy = "server_busy";

    /// <summary>The caller already owns <c>MaxOpenSessionsPerUser</c> open sessions.</summary>
    public const string TooManySessions = "too_many_sessions";

    /// <summary>The session already has <c>MaxParticipantsPerSession</c> participants.</summary>
    public const string SessionFull = "session_full";

    /// <summary>
    /// Too many calls or items of this kind in a short time (annotations, calls that create things, readings
    /// published); the text says how long to wait (<see cref="RetryAfterOf"/> reads it).
    /// </summary>
    public const string RateLimited = "rate_limited";

    /// <summary>A session stream could not keep up and was dropped; join again for a fresh snapshot.</summary>
    public const string FellBehind = "fell_behind";

    /// <summary>Another <c>Upload</c> stream is appending to this upload; one writer at a time.</summary>
    public const string UploadHasWriter = "upload_has_writer";

    /// <summary>The <c>offset</c> of an <c>Upload</c> is not the upload's <c>receivedBytes</c>; resume at that.</summary>
    public const string UploadOffsetMismatch = "upload_offset_mismatch";

    /// <summary>The upload is complete: it cannot be appended to any more.</summary>
    public const string UploadComplete = "upload_complete";

    /// <summary>The upload failed (its hash did not match, say): it can be neither resumed nor completed.</summary>
    public const string UploadFailed = "upload_failed";

    /// <summary>A <c>Download</c> of an upload that is not complete.</summary>
    public const string UploadNotComplete = "upload_not_complete";

    /// <summary>A chunk or an upload over a size limit (<c>MaxChunkBytes</c>, <c>totalBytes</c>, <c>MaxUploadBytes</c>).</summary>
    public const string TooLarge = "too_large";

    /// <summary>
    /// A sensor cap is reached: the server's <c>MaxSensors</c> or the publisher's <c>MaxSensorsPerPublisher</c>. An item
    /// for a new sensor is rejected alone (in <c>PublishResult</c> or a CSV upload's summary); known sensors go on.
    /// </summary>
    public const string TooManySensors = "too_many_sensors";

    /// <summary>The owner's upload quota (<c>MaxBytesPerOwner</c> or <c>MaxUploadsPerOwner</c>) is used up; delete or wait for retention.</summary>
    public const string QuotaExceeded = "quota_exceeded";

    /// <summary>The server's free disk space is below <c>MinFreeDiskBytes</c>: new chunks are refused, nothing written is lost.</summary>
    public const string InsufficientStorage = "insufficient_storage";

    /// <summary>
    /// The node lost its shared backend (Redis) for longer than <c>SensorHub:Redis:GracePeriod</c>: its streams end with
    /// this, and it refuses new subscriptions and publishes at once until the backend answers again. Nothing is wrong
    /// with the call: resume on another node (or this one, later) from the last sequence received.
    /// </summary>
    public const string BackendUnavailable = "backend_unavailable";

    /// <summary>Every code above, in the order of the list in docs/contract.md ("Errors").</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        InvalidArgument, NotAllowed, UnknownSensor, UnknownUpload, UnknownSession, TooManyStreams, TooManyUploads,
        ServerBusy, TooManySessions, SessionFull, RateLimited, FellBehind, UploadHasWriter, UploadOffsetMismatch,
        UploadComplete, UploadFailed, UploadNotComplete, TooLarge, TooManySensors, QuotaExceeded, InsufficientStorage,
        BackendUnavailable,
    ];

    private const string HubExceptionMarker = "HubException: ";
    private const string RetryAfterMarker = "retry after ";

    /// <summary>
    /// The words a <see cref="RateLimited"/> refusal ends its text with: <c>retry after 250 ms.</c>, the wait rounded
    /// up to whole milliseconds (at least 1). <see cref="RetryAfterOf"/> reads them back.
    /// </summary>
    public static string RetryAfterText(TimeSpan wait) =>
        FormattableString.Invariant($"{RetryAfterMarker}{Math.Max(1, (long)Math.Ceiling(wait.TotalMilliseconds))} ms.");

    /// <summary>How long a refusal asks the client to wait (see <see cref="RetryAfterText"/>), or <see langword="null"/> when it does not say.</summary>
    public static TimeSpan? RetryAfterOf(string? message)
    {
        if (message is null)
            return null;
        var at = message.LastIndexOf(RetryAfterMarker, StringComparison.Ordinal);
        if (at < 0)
            return null;
        var start = at + RetryAfterMarker.Length;
        var end = start;
        while (end < message.Length && char.IsAsciiDigit(message[end]))
            end++;
        return end > start
               && message.AsSpan(end).StartsWith(" ms", StringComparison.Ordinal)
               && long.TryParse(message.AsSpan(start, end - start), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(ms)
            : null;
    }

    /// <summary>The message a server error carries: <c>[code] text</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="code"/> is not a well-formed code.</exception>
    public static string Format(string code, string text)
    {
        if (!IsCode(code))
            throw new ArgumentException($"'{code}' is not an error code: lowercase ASCII letters, digits and '_'.", nameof(code));
        return $"[{code}] {text}";
    }

    /// <summary>
    /// The code in an error message as a client receives it (see the remarks of <see cref="SensorHubErrors"/>), or
    /// <see langword="null"/> when it carries none (a transport error, an unexpected server error).
    /// </summary>
    public static string? CodeOf(string? message)
    {
        if (string.IsNullOrEmpty(message))
            return null;
        if (CodeAt(message, 0) is { } code)
            return code;
        var marker = message.IndexOf(HubExceptionMarker, StringComparison.Ordinal);
        return marker < 0 ? null : CodeAt(message, marker + HubExceptionMarker.Length);
    }

    /// <summary>The <c>[code]</c> that starts at <paramref name="start"/>, or <see langword="null"/>.</summary>
    private static string? CodeAt(string message, int start)
    {
        if (start >= message.Length || message[start] != '[')
            return null;
        var end = message.IndexOf(']', start + 1);
        if (end < 0)
            return null;
        var code = message.Substring(start + 1, end - start - 1);
        return IsCode(code) ? code : null;
    }

    /// <summary>
    /// The server's own words in an error message as a client receives it: from the code on (<c>[code] text</c>),
    /// without what SignalR put in front; the message as it is when it carries no code. For showing to people.
    /// </summary>
    public static string ServerTextOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (CodeOf(message) is null)
            return message;
        var marker = message.IndexOf(HubExceptionMarker, StringComparison.Ordinal);
        return marker < 0 || message.StartsWith('[') ? message : message[(marker + HubExceptionMarker.Length)..];
    }

    private static bool IsCode(string code)
    {
        if (code.Length is 0 or > 64)
            return false;
        foreach (var c in code)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
                return false;
        }
        return true;
    }
}
