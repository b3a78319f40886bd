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
    /// Server-to-client streams one connection may hold open at once, over every streaming hub method. Default 100.
    /// SignalR's own <c>MaximumParallelInvocationsPerClient</c> does not count streams.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>
    /// The largest message a client may send, in bytes; a larger one closes its connection. Default: just enough for
    /// the largest upload chunk under JSON's base64 (about 1.4 MB for 1 MiB chunks). It may not be set below that.
    /// </summary>
    [Range(1_024, 256 * 1024 * 1024)]
    public long? MaximumReceiveMessageSize { get; set; }
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
