using Microsoft.Extensions.Logging;

namespace SensorHub.Client.Internal;

internal static partial class ClientLog
{
    [LoggerMessage(9001, LogLevel.Information, "Connected to {Url} ({ConnectionId}).")]
    public static partial void Connected(ILogger logger, Uri url, string? connectionId);

    [LoggerMessage(9002, LogLevel.Warning, "The connection dropped; reconnecting.")]
    public static partial void Reconnecting(ILogger logger, Exception? error);

    [LoggerMessage(9003, LogLevel.Information, "Reconnected ({ConnectionId}).")]
    public static partial void Reconnected(ILogger logger, string? connectionId);

    [LoggerMessage(9004, LogLevel.Information, "The connection closed.")]
    public static partial void Disconnected(ILogger logger, Exception? error);

    [LoggerMessage(9005, LogLevel.Information, "{Method} on {Target} was interrupted ({Cause}); resuming (attempt {Attempt}).")]
    public static partial void Resuming(ILogger logger, string method, string target, int attempt, Interruption cause, Exception? error);

    [LoggerMessage(9006, LogLevel.Warning, "Sensor {SensorId}: readings {FromSequence} to {ToSequence} cannot be delivered ({Cause}).")]
    public static partial void Gap(ILogger logger, string sensorId, long fromSequence, long toSequence, SequenceGapCause cause);

    [LoggerMessage(9007, LogLevel.Error, "A handler of {Event} threw.")]
    public static partial void HandlerFailed(ILogger logger, string @event, Exception error);

    [LoggerMessage(9008, LogLevel.Information, "{Method} on {Target} was refused with {Code} while resuming; retrying in {Delay} (refused for {Elapsed} so far).")]
    public static partial void RetryingRefusal(ILogger logger, string method, string target, string code, TimeSpan delay, TimeSpan elapsed);

    [LoggerMessage(9009, LogLevel.Warning, "{Method} on {Target} was still refused with {Code} after {Elapsed}, longer than its patience of {Patience}; giving up.")]
    public static partial void RefusedPastPatience(ILogger logger, string method, string target, string code, TimeSpan elapsed, TimeSpan patience);

    [LoggerMessage(9010, LogLevel.Warning,
        "Sensor {SensorId}: the server restarted or had lost the sensor after sequence {LastSequence}; it went on at {NextSequence}. Readings in between, if any, are lost; how many is unknown.")]
    public static partial void RestartGap(ILogger logger, string sensorId, long lastSequence, long nextSequence);

    [LoggerMessage(9011, LogLevel.Warning, "Sensor {SensorId}: could not ask the server where the sensor's numbering starts; a jump at the seam is reported as history lost.")]
    public static partial void GapNotClassified(ILogger logger, string sensorId, Exception error);

    [LoggerMessage(9012, LogLevel.Warning, "Could not connect to {Url}; the next attempt goes to {NextUrl}.")]
    public static partial void ServerUnreachable(ILogger logger, Uri url, Uri nextUrl, Exception error);

    [LoggerMessage(9013, LogLevel.Warning, "Leaving {Url} for {NextUrl}: {Why}")]
    public static partial void LeavingServer(ILogger logger, Uri url, Uri nextUrl, string why);

    [LoggerMessage(9014, LogLevel.Debug, "Closing the connection that is being left failed.")]
    public static partial void LeaveFailed(ILogger logger, Exception error);

    [LoggerMessage(9015, LogLevel.Warning,
        "SubscribeMany on {Pattern} has seen more than {Capacity} sensors; it forgot the {Count} that delivered least recently. Until a listing fits again, a sensor it does not know resumes live after a drop.")]
    public static partial void ManyForgotSensors(ILogger logger, string pattern, int count, int capacity);

    [LoggerMessage(9016, LogLevel.Warning,
        "SubscribeMany on {Pattern} could not list its sensors before an attempt; sensors it does not know yet start live on this attempt.")]
    public static partial void ManyListingFailed(ILogger logger, string pattern, Exception error);

    [LoggerMessage(9017, LogLevel.Debug, "SubscribeMany on {Pattern}: attempt with {Resumed} sensors named in fromSequences ({Known} known).")]
    public static partial void ManyAttempt(ILogger logger, string pattern, int resumed, int known);
}
