using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;

namespace SensorHub.Client;

/// <summary>
/// An error the SensorHub server answered a call with, or ended a stream with. Decide by <see cref="ErrorCode"/>,
/// never by the message's wording, which may change.
/// </summary>
/// <remarks>
/// It is a <see cref="HubException"/>, so code that catches <see cref="HubException"/> keeps working. Every server error
/// that reaches an SDK caller is one of these: from a call (<see cref="SensorHubClient.ListSensorsAsync(CancellationToken)"/>, ...), from a
/// stream (<see cref="SensorHubClient.SubscribeAsync(string, SubscribeOptions?, CancellationToken)"/>, ...), or from a
/// resume that the server refused. <see cref="Exception.Message"/> is the message as SignalR delivered it, with its own
/// words in front (<c>An error occurred on the server while streaming results. HubException: [unknown_sensor] ...</c>);
/// <see cref="Exception.InnerException"/> is SignalR's original exception.
/// </remarks>
public sealed class SensorHubServerException : HubException
{
    /// <summary>Creates the exception with no message and no code.</summary>
    public SensorHubServerException()
    {
    }

    /// <summary>Creates the exception; <see cref="ErrorCode"/> is read from <paramref name="message"/>.</summary>
    /// <param name="message">The server's message, as SignalR delivered it.</param>
    public SensorHubServerException(string? message)
        : this(message, SensorHubErrors.CodeOf(message), null)
    {
    }

    /// <summary>Creates the exception; <see cref="ErrorCode"/> is read from <paramref name="message"/>.</summary>
    /// <param name="message">The server's message, as SignalR delivered it.</param>
    /// <param name="innerException">SignalR's exception.</param>
    public SensorHubServerException(string? message, Exception? innerException)
        : this(message, SensorHubErrors.CodeOf(message), innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The server's message, as SignalR delivered it.</param>
    /// <param name="errorCode">The code, one of <see cref="SensorHubErrors"/>; <see langword="null"/> for an unexpected error.</param>
    /// <param name="innerException">SignalR's exception.</param>
    public SensorHubServerException(string? message, string? errorCode, Exception? innerException)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>
    /// The stable code of a refusal, one of the constants of <see cref="SensorHubErrors"/> (such as
    /// <see cref="SensorHubErrors.UnknownSensor"/> or <see cref="SensorHubErrors.TooManyUploads"/>); <see langword="null"/>
    /// when the server failed unexpectedly (a bug or an outage on the server, not a refusal).
    /// </summary>
    public string? ErrorCode { get; }

    /// <summary>Whether the server refused on purpose (<see cref="ErrorCode"/> is set) rather than failed unexpectedly.</summary>
    public bool IsRefusal => ErrorCode is not null;

    /// <summary>SignalR's exception as an SDK caller receives it: with its code read once, here.</summary>
    internal static SensorHubServerException From(HubException error) =>
        error as SensorHubServerException ?? new SensorHubServerException(error.Message, SensorHubErrors.CodeOf(error.Message), error);
}
