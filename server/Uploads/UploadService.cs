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
    private readonly IUploadCoordinator _coordinator;
    private readonly DiskSpace _disk;
    private readonly UploadMetrics _metrics;
    private int _activeWriters;
    private long _bytesBeingWritten;

    /// <param name="hooks">Registered by tests only; the server runs without (see <see cref="UploadHooks"/>).</param>
    /// <param name="disk">Registered by tests only, to simulate a full disk; the server asks the operating system.</param>
    /// <param name="coordinator">
    /// Registered by the Redis engine, for nodes that share one data folder; without one the node keeps its write
    /// slots, watches, janitor and quotas in memory (<see cref="InMemoryUploadCoordinator"/>).
    /// </param>
    public UploadService(
        UploadFileStore store,
        ReadingIngest ingest,
        IOptions<UploadOptions> options,
        TimeProvider time,
        ShutdownSignal shutdown,
        ILogger<UploadService> logger,
        UploadMetrics metrics,
        UploadHooks? hooks = null,
        DiskSpace? disk = null,
        IUploadCoordinator? coordinator = null)
    {
        _store = store;
        _ingest = ingest;
        _options = options.Value;
        _time = time;
        _shutdown = shutdown;
        _logger = logger;
        _metrics = metrics;
        _hooks = hooks ?? UploadHooks.None;
        _disk = disk ?? DiskSpace.System;
        _coordinator = coordinator ?? new InMemoryUploadCoordinator(_options.MaxBytesPerOwner, _options.MaxUploadsPerOwner);
        // Ending every watch when the server begins to stop lets each WatchUpload stream send the newest status and
        // complete before SignalR closes the connections. Uploads themselves keep what they received.
        _onStopping = shutdown.Stopping.Register(EndWatches);
    }

    /// <summary>
    /// Whether the upload records in the data folder have been loaded (at start, before the server takes requests):
    /// until then every call waits. <see langword="false"/> for good when loading failed (the host then does not start).
    /// For the readiness check.
    /// </summary>
    public bool IsLoaded => _loaded.Task.IsCompletedSuccessfully;

    /// <summary><c>Upload</c> streams appending now, over all connections.</summary>
    internal int ActiveWriters => Volatile.Read(ref _activeWriters);

    /// <summary>
    /// Creates an upload owned by <paramref name="user"/> (by their id, the token's subject), so that its id is known
    /// before a byte travels. It counts in its owner's quota from here on.
    /// </summary>
    public async Task<UploadStatus> BeginAsync(UploadRequest? request, SensorHubUser user, CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        _coordinator.ThrowIfUnavailable();
        if (user.Id is not { } ownerId)
        {
            throw new UploadException(
                SensorHubErrors.NotAllowed,
                "Not allowed: your token has no subject ('sub' claim), and an upload belongs to the subject that begins it; a token without one may read but not upload.");
        }
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
            Csv = CheckCsv(request),
            OwnerId = ownerId,
            OwnerName = user.Name,
            CreatedUtc = now,
            UpdatedUtc = now,
            Processed = ProcessingCheckpoint.Start,
        };
        var (added, kept) = await _coordinator.TryAddUploadAsync(ownerId, _options.MaxUploadsPerOwner).ConfigureAwait(false);
        if (!added)
        {
            throw new UploadException(
                SensorHubErrors.QuotaExceeded,
                $"Quota exceeded: you keep {kept} uploads, the most one owner may (MaxUploadsPerOwner); one frees its place when it is deleted (complete ones after their retention, unfinished ones when stale) or fails.");
        }
        try
        {
            await _store.SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await _coordinator.RemoveAsync(ownerId, 1, 0).ConfigureAwait(false);
            throw;
        }
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
        if (_coordinator.IsShared)
            await RefreshAllAsync(leftoversOlderThan: null, cancellationToken).ConfigureAwait(false);
        return _uploads.Values
            .Where(u => user.IsAdmin || user.Is(u.Record.OwnerId))
            .OrderBy(u => u.Record.CreatedUtc)
            .ThenBy(u => u.Id, StringComparer.Ordinal)
            .Select(u => u.Status)
            .ToArray();
    }

    /// <summary>An upload's status now and each time it changes, until it completes or fails.</summary>
    public async IAsyncEnumerable<UploadStatus> WatchAsync(string? uploadId, SensorHubUser user, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false);
        if (_coordinator.IsShared)
        {
            await foreach (var status in WatchSharedAsync(state, cancellationToken).ConfigureAwait(false))
                yield return status;
            yield break;
        }
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
            var uploads = await _store.LoadAllAsync(LeftoversOlderThan, cancellationToken).ConfigureAwait(false);
            var counted = new List<(string, long)>();
            foreach (var (record, bytes) in uploads)
            {
                if (!_uploads.TryAdd(record.Id, new UploadState(record, bytes)))
                    continue;
                if (record is { Failed: false, OwnerId: { } ownerId })
                    counted.Add((ownerId, bytes));
            }
            await _coordinator.CountedAsync(counted, atStart: true).ConfigureAwait(false);
            UploadsLog.Loaded(_logger, uploads.Count, _store.Root);
            _loaded.TrySetResult();
        }
        catch (Exception ex)
        {
            _loaded.TrySetException(ex);
            throw;
        }
    }

    /// <summary>An upload by its id, whoever may see it: for tests that look inside.</summary>
    internal UploadState? Peek(string uploadId) => _uploads.GetValueOrDefault(uploadId);

    /// <summary>What <paramref name="ownerId"/> keeps now, counted for their quota: for tests that look inside.</summary>
    internal (int Uploads, long Bytes) QuotaOf(string ownerId) => _coordinator.QuotaOfAsync(ownerId).GetAwaiter().GetResult();

    /// <summary>
    /// An upload <paramref name="user"/> may see. Any other answers exactly as an unknown id, so that its existence
    /// does not leak.
    /// </summary>
    private async Task<UploadState> FindAsync(string? uploadId, SensorHubUser user, CancellationToken cancellationToken)
    {
        CheckUploadId(uploadId);
        await _loaded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var state = _coordinator.IsShared
            ? await ReloadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            : _uploads.GetValueOrDefault(uploadId);
        return state is not null && MaySee(user, state.Record)
            ? state
            : throw new UploadException(SensorHubErrors.UnknownUpload, $"uploadId: no upload '{uploadId}' is known.");
    }

    /// <summary>
    /// An upload id must have the form of the ids the server makes before it is looked up, so that an error never
    /// echoes what a client sent of any length (only a well-formed id, 32 characters, is ever named in a text).
    /// </summary>
    private static void CheckUploadId([System.Diagnostics.CodeAnalysis.NotNull] string? uploadId)
    {
        if (uploadId is null)
            throw new UploadException(SensorHubErrors.InvalidArgument, "uploadId is required.");
        if (uploadId.Length == 0)
            throw new UploadException(SensorHubErrors.InvalidArgument, "uploadId is empty.");
        if (!UploadIds.IsWellFormed(uploadId))
            throw new UploadException(SensorHubErrors.InvalidArgument, "uploadId is malformed: an upload id is 32 lowercase hexadecimal digits.");
    }

    /// <summary>
    /// Who sees an upload: its owner; admins; and those who may read without sensor prefixes (viewers and operators
    /// download what devices upload). A caller bounded by prefixes reads only within them, and an upload's bytes are
    /// not bound to any sensor, so it sees only its own; a device (which may not read) too.
    /// </summary>
    private static bool MaySee(SensorHubUser user, UploadRecord record) =>
        user.Is(record.OwnerId) || user.IsAdmin || (user.Has(Permission.Read) && user.SensorPrefixes is null);

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
    private IUploadProcessor? CreateProcessor(UploadRecord record, ProcessingCheckpoint? checkpoint)
    {
        if (MediaTypeOf(record.ContentType).Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            return new LogProcessor(_options.MaxSamples, checkpoint);
        if (IsCsv(record.ContentType))
            return new CsvProcessor(_ingest, _options.MaxSamples, checkpoint, _metrics, record.Csv);
        return null;
    }

    private static string MediaTypeOf(string contentType) => contentType.Split(';', 2)[0].Trim();

    private static bool IsCsv(string? contentType) =>
        contentType is not null && MediaTypeOf(contentType).Equals("text/csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>The request's <c>csv</c> options once checked: only on a <c>text/csv</c> upload, each field one the processor can use.</summary>
    private static CsvOptions? CheckCsv(UploadRequest request)
    {
        if (request.Csv is not { } csv)
            return null;
        if (!IsCsv(request.ContentType))
        {
            throw new UploadException(
                SensorHubErrors.InvalidArgument,
                $"request.csv is given, but request.contentType is '{(string.IsNullOrWhiteSpace(request.ContentType) ? "application/octet-stream" : request.ContentType)}'; csv options apply to 'text/csv' uploads only.");
        }
        if (CsvSettings.TryCreate(csv, out var problem) is null)
            throw new UploadException(SensorHubErrors.InvalidArgument, problem!);
        return csv;
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
        // Refused now rather than after the bytes that fit: it could never complete, however much of the quota frees.
        { } total when total > _options.MaxBytesPerOwner =>
            throw new UploadException(SensorHubErrors.QuotaExceeded, $"Quota exceeded: request.totalBytes ({total}) is over the {_options.MaxBytesPerOwner} bytes one owner may store (MaxBytesPerOwner)."),
        _ => totalBytes,
    };

    private static string? CheckSha256(string? sha256) =>
        sha256 is null || ServerIds.IsLowerHex(sha256, 64)
            ? sha256
            : throw new UploadException(SensorHubErrors.InvalidArgument, "request.sha256 must be 64 lowercase hexadecimal digits.");
}
