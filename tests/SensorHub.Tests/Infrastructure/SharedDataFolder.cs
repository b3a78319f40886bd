namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// A data folder that two servers in a row share, as a server and the same server after a restart do; removed at the
/// end (the servers leave it alone, as their own folder is elsewhere).
/// </summary>
public sealed class SharedDataFolder : IDisposable
{
    public SharedDataFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sensorhub-restart-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
        Settings = new Dictionary<string, string?> { ["SensorHub:Uploads:DataPath"] = Path };
    }

    public string Path { get; }

    /// <summary>The settings that point a server at the folder; a test may add its own.</summary>
    public Dictionary<string, string?> Settings { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
