using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Health;

/// <summary>How <c>/healthz/ready</c> checks, bound from <c>SensorHub:Health</c>.</summary>
public sealed class HealthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Health";

    /// <summary>
    /// How long the answer of the data folder's write probe (a file created and deleted) is reused before the next
    /// request probes again, so that a load balancer polling every second does not write to the disk every second.
    /// Default 5 seconds; zero probes on every request; at most a minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan DataFolderProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a request waits for the write probe before it answers that the folder is not writable (a hung network
    /// mount); the probe itself goes on, and the next request waits for the same one. Default 2 seconds; from 100 ms
    /// to 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan DataFolderProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

[OptionsValidator]
internal sealed partial class HealthOptionsValidator : IValidateOptions<HealthOptions>;
