using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;

namespace SensorHub.Server.Simulation;

/// <summary>Simulated sensors, bound from <c>SensorHub:Simulation</c>.</summary>
public sealed class SimulationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Simulation";

    /// <summary>Whether the simulated sensors run. Default <see langword="true"/>; the sensors themselves are listed in <c>appsettings.json</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The sensors to simulate. Default: none here; <c>appsettings.json</c> lists five.</summary>
    [ValidateEnumeratedItems]
    public List<SimulatedSensorOptions> Sensors { get; set; } = [];
}

/// <summary>
/// One simulated sensor: <c>Baseline + Amplitude·sin(2π·t / PeriodSeconds) + Noise·N(0,1)</c>, sampled
/// <see cref="RateHz"/> times a second.
/// </summary>
public sealed class SimulatedSensorOptions : IValidatableObject
{
    /// <summary>The sensor id (the usual rules for sensor ids apply).</summary>
    [Required]
    public string Id { get; set; } = "";

    /// <summary>A human-readable name. Default: the id.</summary>
    public string? Name { get; set; }

    /// <summary>What it measures, such as <c>temperature</c>. Default <c>simulated</c>.</summary>
    [Required]
    public string Kind { get; set; } = "simulated";

    /// <summary>The unit of its values. Default none.</summary>
    public string? Unit { get; set; }

    /// <summary>Readings per second. Default 1.</summary>
    [Range(0.001, 100_000)]
    public double RateHz { get; set; } = 1;

    /// <summary>The value the wave swings around. Default 0.</summary>
    public double Baseline { get; set; }

    /// <summary>How far the wave swings. Default 1.</summary>
    public double Amplitude { get; set; } = 1;

    /// <summary>The wave's period in seconds. Default 60.</summary>
    [Range(0.000001, 1e9)]
    public double PeriodSeconds { get; set; } = 60;

    /// <summary>The standard deviation of the noise added to each value. Default 0.</summary>
    [Range(0, 1e9)]
    public double Noise { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!SensorId.IsValid(Id, out var problem))
            yield return new ValidationResult($"The field Id {problem}.", [nameof(Id)]);
    }
}

[OptionsValidator]
internal sealed partial class SimulationOptionsValidator : IValidateOptions<SimulationOptions>;

/// <summary>
/// The simulated sensors are the server's own: registered whatever the caps, but counted in
/// <see cref="FeedOptions.MaxSensors"/>. More of them than that would leave devices no room at all, so it stops the start.
/// </summary>
internal sealed class SimulationFitsSensorCap(IOptions<FeedOptions> feeds) : IValidateOptions<SimulationOptions>
{
    public ValidateOptionsResult Validate(string? name, SimulationOptions options)
    {
        var sensors = options.Sensors.Select(s => s.Id).Distinct(StringComparer.Ordinal).Count();
        return options.Enabled && sensors > feeds.Value.MaxSensors
            ? ValidateOptionsResult.Fail(
                $"{sensors} simulated sensors are more than SensorHub:Feeds:MaxSensors ({feeds.Value.MaxSensors}) allows in all.")
            : ValidateOptionsResult.Success;
    }
}
