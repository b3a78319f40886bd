using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Hubs;

/// <summary>Limits of the hub's connections, bound from <c>SensorHub:Hub</c>.</summary>
public sealed class HubLimitsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Hub";

    /// <summary>
    /// Streams one connection may hold open at once, over every streaming hub method and both directions (server-to-client
    /// streams, and <c>Publish</c> and <c>Upload</c> streams). Default 100. SignalR's own
    /// <c>MaximumParallelInvocationsPerClient</c> does not count streams.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>
    /// Calls that create things (<c>BeginUpload</c>, <c>CreateSession</c>, <c>Annotate</c>) one connection may make per
    /// <see cref="CreationRatePeriod"/>. Default 20. A token bucket: this many at once, then refilled evenly over the
    /// period; a call over it is refused with <c>rate_limited</c> and the time to wait.
    /// </summary>
    [Range(1, 1_000_000)]
    public int CreationRateLimit { get; set; } = 20;

    /// <summary>The period of <see cref="CreationRateLimit"/>. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan CreationRatePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Readings one connection may publish per <see cref="PublishRatePeriod"/>, over all its <c>Publish</c> streams.
    /// Default 10,000. A token bucket like <see cref="CreationRateLimit"/>; an item over it is rejected alone in the
    /// <c>PublishResult</c> with <c>rate_limited</c> and the time to wait, and the stream goes on.
    /// </summary>
    [Range(1, 100_000_000)]
    public int PublishRateLimit { get; set; } = 10_000;

    /// <summary>The period of <see cref="PublishRateLimit"/>. Default one second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan PublishRatePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sensors one connection may create by publishing to new ids, per <see cref="NewSensorRatePeriod"/>. Default
    /// 1,000 (a gateway registers its sensors at once). An item for a new sensor over it is rejected alone with
    /// <c>rate_limited</c>; items for known sensors go on.
    /// </summary>
    [Range(1, 1_000_000)]
    public int NewSensorRateLimit { get; set; } = 1_000;

    /// <summary>The period of <see cref="NewSensorRateLimit"/>. Default one minute.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan NewSensorRatePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The largest message a client may send, in bytes; a larger one closes its connection. Default: just enough for
    /// the largest upload chunk under JSON's base64 (about 1.4 MB for 1 MiB chunks). It may not be set below that.
    /// </summary>
    [Range(1_024, 256 * 1024 * 1024)]
    public long? MaximumReceiveMessageSize { get; set; }

    /// <summary>
    /// How long a send to a client may wait for the client to read before its connection is closed (SignalR's
    /// <c>HttpConnectionDispatcherOptions.TransportSendTimeout</c>). Default 10 seconds, SignalR's. A subscriber that reads
    /// nothing for this long is disconnected and may resubscribe with <c>fromSequence</c>; a longer one keeps a
    /// far-behind client connected, and the server's send buffers for it full, for longer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan TransportSendTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

[OptionsValidator]
internal sealed partial class HubLimitsOptionsValidator : IValidateOptions<HubLimitsOptions>;

/// <summary>The message size limit must leave room for the largest upload chunk.</summary>
internal sealed class HubLimitsFitUploads(IOptions<UploadOptions> uploads) : IValidateOptions<HubLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, HubLimitsOptions options)
    {
        var needed = uploads.Value.LargestChunkMessage;
        return options.MaximumReceiveMessageSize is { } size && size < needed
            ? ValidateOptionsResult.Fail(
                $"MaximumReceiveMessageSize ({size}) is too small for an upload chunk of MaxChunkBytes ({uploads.Value.MaxChunkBytes}), " +
                $"which takes up to {needed} bytes as base64 under JSON.")
            : ValidateOptionsResult.Success;
    }
}
