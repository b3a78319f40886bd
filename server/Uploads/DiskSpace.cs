namespace SensorHub.Server.Uploads;

/// <summary>
/// How many bytes are free for this process on the disk that holds a folder. The server asks the operating system;
/// a test registers one of its own (as a singleton) to simulate a disk that is nearly full.
/// </summary>
internal sealed class DiskSpace(Func<string, long> freeBytes)
{
    /// <summary>The operating system's answer: the space available to this process's user (quotas and reserved blocks left out).</summary>
    public static DiskSpace System { get; } = new(folder => new DriveInfo(folder).AvailableFreeSpace);

    public long FreeBytes(string folder) => freeBytes(folder);
}
