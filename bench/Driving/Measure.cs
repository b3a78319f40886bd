namespace SensorHub.Bench.Driving;

/// <summary>One measurement of one scenario on one target: metric name to value, in the order they are reported.</summary>
internal sealed record Measure(IReadOnlyList<KeyValuePair<string, double>> Values)
{
    public static Measure Of(params (string Metric, double Value)[] values) =>
        new(values.Select(v => KeyValuePair.Create(v.Metric, v.Value)).ToArray());

    public double this[string metric] => Values.First(v => v.Key == metric).Value;
}
