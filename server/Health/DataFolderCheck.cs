using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Health;

/// <summary>
/// Not ready while the data folder (<see cref="UploadOptions.DataPath"/>) cannot be written: a file is created, written
/// and deleted there. The answer is reused for <see cref="HealthOptions.DataFolderProbeInterval"/>; requests that come
/// while a probe runs wait for that one, so at most one probe runs at a time, and a request waits at most
/// <see cref="HealthOptions.DataFolderProbeTimeout"/> for it.
/// </summary>
/// <remarks>
/// The probe's name (<c>.ready-{guid}.probe</c>) is not one the upload store reads or deletes, and is new each time:
/// nodes that share one folder probe side by side.
/// </remarks>
internal sealed class DataFolderCheck(UploadFileStore store, IOptions<HealthOptions> options, TimeProvider time, ILogger<DataFolderCheck> logger)
    : IHealthCheck
{
    private readonly HealthOptions _options = options.Value;
    private readonly Lock _lock = new();
    private Task<HealthCheckResult>? _probe;
    private long _probeStarted;
    private bool _failing;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        Task<HealthCheckResult> probe;
        lock (_lock)
        {
            if (_probe is null || (_probe.IsCompleted && time.GetElapsedTime(_probeStarted) >= _options.DataFolderProbeInterval))
            {
                _probeStarted = time.GetTimestamp();
                // On a thread of its own: file I/O on a hung mount blocks, and the request is bounded below.
                _probe = Task.Run(Probe, CancellationToken.None);
            }
            probe = _probe;
        }
        try
        {
            return await probe.WaitAsync(_options.DataFolderProbeTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy(
                $"The data folder did not complete a write within {_options.DataFolderProbeTimeout.TotalSeconds:0.###} s.");
        }
    }

    private HealthCheckResult Probe()
    {
        var path = Path.Combine(store.Root, $".ready-{Guid.NewGuid():N}.probe");
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
                file.WriteByte(0);
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file created on a full disk fails only as it is written: it must not stay behind, one per probe.
            TryDelete(path);
            // Logged once per change, not on every probe: a load balancer keeps asking.
            if (!_failing)
                HealthLog.DataFolderNotWritable(logger, store.Root, e);
            _failing = true;
            // The folder's path stays in the log: the answer goes to anyone who asks.
            return HealthCheckResult.Unhealthy($"The data folder (SensorHub:Uploads:DataPath) is not writable: {e.GetType().Name}.");
        }
        if (_failing)
            HealthLog.DataFolderWritable(logger, store.Root);
        _failing = false;
        return HealthCheckResult.Healthy();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder that cannot be written to may refuse this too; nothing was left then either.
        }
    }
}
