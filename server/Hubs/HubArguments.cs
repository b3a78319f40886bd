using SensorHub.Contracts;

namespace SensorHub.Server.Hubs;

/// <summary>Argument checks whose messages name the argument and what was wrong with it.</summary>
internal static class HubArguments
{
    public static void CheckSensorId(string? sensorId)
    {
        if (!SensorId.IsValid(sensorId, out var problem))
            throw new SensorHubException(SensorHubErrors.InvalidArgument, $"sensorId {problem}.");
    }

    public static void CheckSubscribeOptions(SubscribeOptions? options)
    {
        if (options is null)
            return;
        if (options.FromSequence is < 0)
            throw new SensorHubException(SensorHubErrors.InvalidArgument, $"options.fromSequence must be 0 or more; it was {options.FromSequence}.");
        if (options.MaxRate is { } rate && !(rate >= SubscribeOptions.MaxRateMinimum && rate <= SubscribeOptions.MaxRateMaximum))
        {
            throw new SensorHubException(
                SensorHubErrors.InvalidArgument,
                FormattableString.Invariant(
                    $"options.maxRate must be from {SubscribeOptions.MaxRateMinimum} to {SubscribeOptions.MaxRateMaximum:0} readings per second; it was {rate}."));
        }
    }
}
