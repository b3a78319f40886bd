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
        CheckMaxRate(options.MaxRate);
    }

    /// <summary>The parsed pattern, or <c>invalid_argument</c> naming it and what is wrong with it.</summary>
    public static SensorPattern CheckPattern(string? pattern)
    {
        if (!SensorPattern.TryParse(pattern, out var parsed, out var problem))
        {
            // Named only when it is short and printable: a hostile pattern of a megabyte, or one with line breaks, is
            // not sent back or logged; the problem says what is wrong with it either way.
            var shown = pattern is { Length: <= SensorPattern.MaxLength } && pattern.All(c => c is >= ' ' and <= '~') ? $" '{pattern}'" : "";
            throw new SensorHubException(SensorHubErrors.InvalidArgument, $"pattern{shown} {problem}.");
        }
        return parsed;
    }

    public static void CheckSubscribeManyOptions(SubscribeManyOptions? options)
    {
        if (options is null)
            return;
        CheckMaxRate(options.MaxRate);
        if (options.FromSequences is not { } fromSequences)
            return;
        if (fromSequences.Count > SubscribeManyOptions.MaxFromSequences)
        {
            throw new SensorHubException(
                SensorHubErrors.InvalidArgument,
                $"options.fromSequences has {fromSequences.Count} entries; at most {SubscribeManyOptions.MaxFromSequences} are allowed.");
        }
        foreach (var (sensorId, sequence) in fromSequences)
        {
            if (!SensorId.IsValid(sensorId, out var problem))
                throw new SensorHubException(SensorHubErrors.InvalidArgument, $"options.fromSequences: a key {problem}.");
            if (sequence < 0)
                throw new SensorHubException(SensorHubErrors.InvalidArgument, $"options.fromSequences['{sensorId}'] must be 0 or more; it was {sequence}.");
        }
    }

    private static void CheckMaxRate(double? maxRate)
    {
        if (maxRate is { } rate && !(rate >= SubscribeOptions.MaxRateMinimum && rate <= SubscribeOptions.MaxRateMaximum))
        {
            throw new SensorHubException(
                SensorHubErrors.InvalidArgument,
                FormattableString.Invariant(
                    $"options.maxRate must be from {SubscribeOptions.MaxRateMinimum} to {SubscribeOptions.MaxRateMaximum:0} readings per second; it was {rate}."));
        }
    }
}
