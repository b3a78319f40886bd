using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

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

    /// <summary>The largest message a client may send, in bytes; a larger one closes its connection. Default 64 KiB.</summary>
    [Range(1_024, 64 * 1024 * 1024)]
    public long MaximumReceiveMessageSize { get; set; } = 64 * 1024;
}

[OptionsValidator]
internal sealed partial class HubLimitsOptionsValidator : IValidateOptions<HubLimitsOptions>;
