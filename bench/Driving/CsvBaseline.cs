namespace SensorHub.Bench.Driving;

/// <summary>
/// Today's long-form processing before issue 17, as recorded on main's <c>CsvProcessor</c> (the figures and how they
/// were taken: <c>bench/results/csv-processing.md</c>): the column each CSV row is compared with, so that the
/// comparison survives the processor's change.
/// </summary>
internal static class CsvBaseline
{
    /// <summary>Where and when the figures were taken.</summary>
    public const string Recorded = "main at 3d5710f, 2026-11-30 19:27-19:31 UTC, each figure the median of 3 `csv` runs, on 2 AMD EPYC cores at a load average of 3-5, .NET 10.0.12";

    /// <summary>The processor alone over the 100 MB long file (2,178,900 rows, 300 sensors).</summary>
    public static Measure Processing { get; } = Measure.Of(
        ("rows/s", 925_025),
        ("readings/s", 925_025),
        ("MB/s", 42.459),
        ("seconds", 2.356),
        ("readings accepted %", 100),
        ("driver CPU µs per row", 1.185),
        ("allocated bytes per row", 66.325));

    /// <summary>The 100 MB long file uploaded over the hub.</summary>
    public static Measure Upload { get; } = Measure.Of(
        ("rows/s", 478_364),
        ("readings/s", 478_364),
        ("MB/s", 21.957),
        ("seconds", 5.053),
        ("readings accepted %", 100),
        ("server CPU µs per row", 3.056),
        ("server peak working set above idle MB", 144));
}
