using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Identity;
using SensorHub.Server.Shutdown;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

/// <summary>
/// Uploads: created first, then appended to by <c>Upload</c> streams at the offset already received (the shape of
/// tus), kept on disk as they arrive, hashed and processed as they stream, and read back by <c>Download</c>.
/// </summary>
internal sealed partial class UploadService : IDisposable
{
    private readonly ConcurrentDictionary<string, UploadState> _uploads = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly UploadFileStore _store;
    private readonly ReadingIngest _ingest;
    private readonly UploadOptions _options;
    private readonly TimeProvider _time;
    private readonly ShutdownSignal _shutdown;
    private readonly CancellationTokenRegistration _onStopping;
    private readonly ILogger<UploadService> _logger;
    private int _activeWriters;

    public UploadService(
        UploadFileStore store,
        ReadingIngest ingest,
        IOptions<UploadOptions> options,
        TimeProvider time,
        ShutdownSignal shutdown,
        ILogger<UploadService> logger)
    {
        _store = store;
        _ingest = ingest;
        _options = options.Value;
        _time = time;
        _shutdown = shutdown;
        _logger = logger;
        // Ending every watch when the server begins to stop lets each WatchUpload stream send the newest status and
        // complete before SignalR closes the connections. Uploads themselves keep what they received.
        _onStopping = shutdown.Stopping.Register(EndWatches);
    }

    /// <summary>Creates an upload owned by <paramref name="user"/>, so that its id is known before a byte travels.</summary>
    public async Task<UploadStatus> BeginAsync(UploadRequest? request, SensorHubUser user, CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (request is null)
            throw new UploadException("request is required.");
        var now = _time.GetUtcNow().UtcDateTime;
        var record = new UploadRecord
        {
            Id = UploadIds.New(),
            Name = CheckName(request.Name),
            ContentType = string.IsNullOrWhiteSpace(request.ContentType) ? "application/octet-stream" : CheckContentType(request.ContentType),
            TotalBytes = CheckTotalBytes(request.TotalBytes),
            ExpectedSha256 = CheckSha256(request.Sha256),
            Owner = user.Name,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        await _store.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        var state = new UploadState(record, 0);
        _uploads[record.Id] = state;
        UploadsLog.Begun(_logger, record.Id, record.Name, record.ContentType, record.TotalBytes);
        return state.Status;
    }

    /// <summary>Where an upload stands.</summary>
    public async Task<UploadStatus> GetStatusAsync(string? uploadId, SensorHubUser user, CancellationToken cancellationToken) =>
        (await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false)).Status;

    /// <summary>The uploads <paramref name="user"/> began (an admin's: all), oldest first.</summary>
    public async Task<IReadOnlyList<UploadStatus>> ListAsync(SensorHubUser user, CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _uploads.Values
            .Where(u => user.IsAdmin || u.Record.Owner == user.Name)
            .OrderBy(u => u.Record.CreatedUtc)
            .ThenBy(u => u.Id, StringComparer.Ordinal)
            .Select(u => u.Status)
            .ToArray();
    }

    /// <summary>An upload's status now and each time it changes, until it completes or fails.</summary>
    public async IAsyncEnumerable<UploadStatus> WatchAsync(string? uploadId, SensorHubUser user, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false);
        var changes = state.Watch(stopping: _shutdown.IsStopping);
        try
        {
            await foreach (var status in changes.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return status;
        }
        finally
        {
            state.Unwatch(changes);
        }
    }

    public void Dispose() => _onStopping.Dispose();

    /// <summary>Reads the records in the data folder; until this has run, every call waits.</summary>
    internal async Task LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var uploads = await _store.LoadAllAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (record, bytes) in uploads)
                _uploads.TryAdd(record.Id, new UploadState(record, record.Error is null ? bytes : 0));
            UploadsLog.Loaded(_logger, uploads.Count, _store.Root);
            _loaded.TrySetResult();
        }
        catch (Exception ex)
        {
            _loaded.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Deletes unfinished and failed uploads that nobody has touched for <see cref="UploadOptions.StaleAfter"/>.</summary>
    internal async Task DeleteStaleAsync(CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var cutoff = _time.GetUtcNow().UtcDateTime - _options.StaleAfter;
        foreach (var state in _uploads.Values)
        {
            var record = state.Record;
            if (record.Complete || record.UpdatedUtc > cutoff || !state.TryBeginWrite())
                continue;
            // Holding the write slot keeps a writer from starting on it while it goes; failing it ends its watches.
            _uploads.TryRemove(state.Id, out _);
            if (record.Error is null)
                state.Fail($"deleted: untouched for longer than {_options.StaleAfter}", _time.GetUtcNow().UtcDateTime);
            _store.Delete(state.Id);
            state.Hasher?.Dispose();
            UploadsLog.StaleDeleted(_logger, state.Id);
        }
    }

    /// <summary>
    /// An upload <paramref name="user"/> may see: its own, or any for those who may read (viewers download) and for
    /// admins. Any other answers as unknown, so that its existence does not leak.
    /// </summary>
    private async Task<UploadState> FindAsync(string? uploadId, SensorHubUser user, CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return uploadId is not null && _uploads.TryGetValue(uploadId, out var state)
               && (user.Has(Permission.Read) || user.IsAdmin || state.Record.Owner == user.Name)
            ? state
            : throw new UploadException($"uploadId: no upload '{uploadId}' is known.");
    }

    private void EndWatches()
    {
        foreach (var state in _uploads.Values)
            state.EndWatches();
    }

    private static UploadResult Summarize(UploadState state)
    {
        var record = state.Record;
        var result = new UploadResult
        {
            UploadId = state.Id,
            Bytes = state.ReceivedBytes,
            Sha256 = record.Sha256,
            Complete = record.Complete,
        };
        return state.Processor?.Summarize(result) ?? result;
    }

    private IUploadProcessor? CreateProcessor(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        if (mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            return new LogProcessor(_options.MaxSamples);
        if (mediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
            return new CsvProcessor(_ingest, _options.MaxSamples);
        return null;
    }

    private static string CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new UploadException("request.name is empty; a file name is required.");
        if (name.Length > 255)
            throw new UploadException($"request.name is {name.Length} characters long; at most 255 are allowed.");
        if (name.IndexOfAny(['/', '\\']) >= 0)
            throw new UploadException($"request.name '{name}' contains a path separator; give a file name only.");
        if (name.Contains("..", StringComparison.Ordinal))
            throw new UploadException($"request.name '{name}' contains '..'; give a file name only.");
        if (name.Any(char.IsControl))
            throw new UploadException("request.name contains control characters.");
        return name;
    }

    private static string CheckContentType(string contentType) =>
        contentType.Length <= 255 && !contentType.Any(char.IsControl)
            ? contentType
            : throw new UploadException("request.contentType is not a media type.");

    private long? CheckTotalBytes(long? totalBytes) => totalBytes switch
    {
        < 0 => throw new UploadException($"request.totalBytes must be 0 or more; it was {totalBytes}."),
        { } total when total > _options.MaxUploadBytes =>
            throw new UploadException($"request.totalBytes ({total}) is over the largest upload allowed, {_options.MaxUploadBytes} bytes."),
        _ => totalBytes,
    };

    private static string? CheckSha256(string? sha256) =>
        sha256 is null || ServerIds.IsLowerHex(sha256, 64)
            ? sha256
            : throw new UploadException("request.sha256 must be 64 lowercase hexadecimal digits.");
}
