using System.Threading.RateLimiting;

namespace SensorHub.Server.Feeds;

/// <summary>
/// Who publishes readings through <see cref="ReadingIngest"/>, and what bounds them: the sensors it may publish to,
/// whom the per-publisher sensor cap counts, and the rates it may publish and create sensors at.
/// </summary>
/// <param name="id">The publishing user's id (their token's subject); <see langword="null"/> for the server's own sensors.</param>
/// <param name="mayPublish">Whether it may publish to a sensor; an item for any other is rejected alone.</param>
/// <param name="readings">Readings it may publish, one permit each; <see langword="null"/>: no limit.</param>
/// <param name="newSensors">Sensors it may create, one permit each; <see langword="null"/>: no limit.</param>
/// <param name="mayRegister">
/// Whether it may register new sensors. A caller without an id that is not the server (a token without a subject)
/// passes <see langword="false"/>: a sensor it registered would be counted against no publisher and never removed as
/// idle, as only the server's own are. It may still publish to known sensors.
/// </param>
public sealed class Publisher(
    string? id, Predicate<string> mayPublish, RateLimiter? readings = null, RateLimiter? newSensors = null, bool mayRegister = true)
{
    /// <summary>The server's own publisher (the simulated sensors): every sensor, no rate limit, counted against no publisher.</summary>
    public static Publisher Server { get; } = new(null, static _ => true);

    /// <summary>The publishing user's id, which the per-publisher sensor cap counts; <see langword="null"/> for the server itself.</summary>
    public string? Id { get; } = id;

    /// <summary>Readings it may publish (a permit each); <see langword="null"/> for no limit.</summary>
    public RateLimiter? Readings { get; } = readings;

    /// <summary>Sensors it may create (a permit each); <see langword="null"/> for no limit.</summary>
    public RateLimiter? NewSensors { get; } = newSensors;

    /// <summary>Whether it may register new sensors (see the constructor).</summary>
    public bool MayRegister { get; } = mayRegister;

    /// <summary>Whether it may publish to <paramref name="sensorId"/>.</summary>
    public bool MayPublish(string sensorId) => mayPublish(sensorId);

    /// <summary>How the engine registers a sensor this publisher publishes to first.</summary>
    internal SensorRegistration Registration { get; } =
        !mayRegister ? SensorRegistration.None
        : id is null ? SensorRegistration.ByServer
        : SensorRegistration.ByPublisher(id);
}
