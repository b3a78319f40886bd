using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SensorHub.Server.Hubs;

namespace SensorHub.Server.Shutdown;

/// <summary>How the hub stops, bound from <c>SensorHub:Hub</c> beside <see cref="HubLimitsOptions"/>.</summary>
public sealed class HubShutdownOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = HubLimitsOptions.Section;

    /// <summary>
    /// How long a stopping server waits for its server-to-client streams to send what they buffered and complete, and
    /// then for their connections to close, before SignalR closes whatever is left. Default 5 seconds; at most a
    /// minute, and less than the host's <c>ShutdownTimeout</c> (30 seconds by default), which the wait counts against.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

[OptionsValidator]
internal sealed partial class HubShutdownOptionsValidator : IValidateOptions<HubShutdownOptions>;

/// <summary>
/// The drain runs inside the host's stop, whose <see cref="HostOptions.ShutdownTimeout"/> is already running: a drain
/// as long as that would leave the host no time to stop the rest and would be cut short itself.
/// </summary>
internal sealed class HubShutdownFitsHost(IOptions<HostOptions> host) : IValidateOptions<HubShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, HubShutdownOptions options)
    {
        var hostTimeout = host.Value.ShutdownTimeout;
        return hostTimeout != Timeout.InfiniteTimeSpan && options.ShutdownDrainTimeout >= hostTimeout
            ? ValidateOptionsResult.Fail(
                $"ShutdownDrainTimeout ({options.ShutdownDrainTimeout}) must be shorter than the host's ShutdownTimeout ({hostTimeout}), " +
                "within which the drain and the rest of the stop must fit.")
            : ValidateOptionsResult.Success;
    }
}
