namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>
/// What exists on the server before the fuzz starts, so that random calls also reach past the argument checks: known
/// sensors, a complete and an unfinished upload, an open session. The fuzz may change them (end the session, finish
/// the upload); calls on them then meet the server's other answers, which is as good.
/// </summary>
internal sealed record FuzzWorld(
    IReadOnlyList<string> Sensors,
    string CompleteUploadId,
    string UnfinishedUploadId,
    string SessionId)
{
    /// <summary>The prefix of every sensor the fuzz publishes to or names; the canary's sensor is never under it.</summary>
    public const string SensorPrefix = "fuzz/";

    /// <summary>How many distinct new sensor ids the fuzz may create: a bound on what it adds to the server's memory.</summary>
    public const int NewSensorIds = 64;
}
