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
    private readonly UploadHooks _hooks;
    private int _activeWriters;

    /// <param name="hooks">Registered by tests only; the server runs without (see <see cref="UploadHooks"/>).</param>
    public UploadService(
        UploadFileStore store,
        ReadingIngest ingest,
        IOptions<UploadOptions> options,
        TimeProvider time,
        ShutdownSignal shutdown,
        ILogger<UploadService> logger,
        UploadHooks? hooks = null)
    {
        _store = store;
        _ingest = ingest;
        _options = options.Value;
        _time = time;
        _shutdown = shutdown;
        _logger = logger;
        _hooks = hooks ?? UploadHooks.None;
        // Ending every watch when the server begins to stop lets each WatchUpload stream send the newest status and
        // complete before SignalR closes the connections. Uploads themselves keep what they received.
        _onStopping = shutdown.Stopping.Register(EndWatches);
    }

    /// <summary><c>Upload</c> streams appending now, over all connections.</summary>
    internal int ActiveWriters => Volatile.Read(ref _activeWriters);

    /// <summary>Creates an upload owned by <paramref name="user"/>, so that its id is known before a byte travels.</summary>
    public async Task<UploadStatus> BeginAsync(UploadRequest? request, SensorHubUser user, CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (request is null)
            throw new UploadException(SensorHubErrors.InvalidArgument, "request is required.");
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
            Processed = ProcessingCheckpoint.Start,
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
            await _hooks.AfterWatchAsync(state.Id, cancellationToken).ConfigureAwait(false);
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
            if (!IsStale(state.Record, cutoff))
                continue;
            await _hooks.BeforeJanitorSlotAsync(state.Id, cancellationToken).ConfigureAwait(false);
            if (!state.TryBeginWrite())
                continue;
            try
            {
                // Decided again under the write slot, which keeps writers off while it goes: the upload may have been
                // resumed, or even completed, since the look above.
                var record = state.Record;
                if (!IsStale(record, cutoff))
                    continue;
                _uploads.TryRemove(state.Id, out _);
                // Failing it ends its watches, and a writer that found it before it went is refused by its error.
                if (record.Error is null)
                    state.Fail($"deleted: untouched for longer than {_options.StaleAfter}", _time.GetUtcNow().UtcDateTime);
                Forget(state);
                _store.Delete(state.Id);
                UploadsLog.StaleDeleted(_logger, state.Id);
            }
            catch (IOException ex)
            {
                // One file that cannot go must neither stop the server (an exception out of a BackgroundService does)
                // nor keep the janitor from the others.
                UploadsLog.StaleNotDeleted(_logger, state.Id, ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                UploadsLog.StaleNotDeleted(_logger, state.Id, ex);
            }
            finally
            {
                state.EndWrite();
            }
        }
    }

    private static bool IsStale(UploadRecord record, DateTime cutoff) => !record.Complete && record.UpdatedUtc <= cutoff;

    /// <summary>An upload by its id, whoever may see it: for tests that look inside.</summary>
    internal UploadState? Peek(string uploadId) => _uploads.GetValueOrDefault(uploadId);

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
            : throw new UploadException(SensorHubErrors.UnknownUpload, $"uploadId: no upload '{uploadId}' is known.");
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

    /// <summary>The processor for a media type, going on from <paramref name="checkpoint"/>; none for a type nobody processes.</summary>
    private IUploadProcessor? CreateProcessor(string contentType, ProcessingCheckpoint? checkpoint)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        if (mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            return new LogProcessor(_options.MaxSamples, checkpoint);
        if (mediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
            return new CsvProcessor(_ingest, _options.MaxSamples, checkpoint);
        return null;
    }

    private static string CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new UploadException(SensorHubErrors.InvalidArgument, "request.name is empty; a file name is required.");
        if (name.Length > 255)
            throw new UploadException(SensorHubErrors.InvalidArgument, $"request.name is {name.Length} characters long; at most 255 are allowed.");
        if (name.IndexOfAny(['/', '\\']) >= 0)
            throw new UploadException(SensorHubErrors.InvalidArgument, $"request.name '{name}' contains a path separator; give a file name only.");
        if (name.Contains("..", StringComparison.Ordinal))
            throw new UploadException(SensorHubErrors.InvalidArgument, $"request.name '{name}' contains '..'; give a file name only.");
        if (name.Any(char.IsControl))
            throw new UploadException(SensorHubErrors.InvalidArgument, "request.name contains control characters.");
        return name;
    }

    private static string CheckContentType(string contentType) =>
        contentType.Length <= 255 && !contentType.Any(char.IsControl)
            ? contentType
            : throw new UploadException(SensorHubErrors.InvalidArgument, "request.contentType is not a media type.");

    private long? CheckTotalBytes(long? totalBytes) => totalBytes switch
    {
        < 0 => throw new UploadException(SensorHubErrors.InvalidArgument, $"request.totalBytes must be 0 or more; it was {totalBytes}."),
        { } total when total > _options.MaxUploadBytes =>
            throw new UploadException(SensorHubErrors.TooLarge, $"request.totalBytes ({total}) is over the largest upload allowed, {_options.MaxUploadBytes} bytes."),
        _ => totalBytes,
    };

    private static string? CheckSha256(string? sha256) =>
        sha256 is null || ServerIds.IsLowerHex(sha256, 64)
            ? sha256
            : throw new UploadException(SensorHubErrors.InvalidArgument, "request.sha256 must be 64 lowercase hexadecimal digits.");
}
