using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;

namespace SensorHub.Server.Hubs;

/// <summary>Argument checks whose messages name the argument and what was wrong with it.</summary>
internal static class HubArguments
{
    public static void CheckSensorId(string? sensorId)
    {
        if (!SensorId.IsValid(sensorId, out var problem))
            throw new HubException($"sensorId {problem}.");
    }

    public static void CheckSubscribeOptions(SubscribeOptions? options)
    {
        if (options is null)
            return;
        if (options.FromSequence is < 0)
            throw new HubException($"options.fromSequence must be 0 or more; it was {options.FromSequence}.");
        if (options.MaxRate is { } rate && !(double.IsFinite(rate) && rate > 0))
            throw new HubException($"options.maxRate must be a positive number of readings per second; it was {rate}.");
    }
}
