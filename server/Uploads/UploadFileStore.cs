using System.Text.Json;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Uploads;

/// <summary>
/// The data folder: each upload's bytes in <c>{id}.data</c> and its record in <c>{id}.json</c>. Paths are built from
/// server-made ids only, never from a client's file name, so nothing is written outside the folder. All I/O is
/// asynchronous; the files are unbuffered because chunks are written and read whole.
/// </summary>
internal sealed class UploadFileStore
{
    private const string RecordSuffix = ".json";
    private const string DataSuffix = ".data";
    private const string TemporarySuffix = ".json.tmp";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly ILogger<UploadFileStore> _logger;

    public UploadFileStore(IOptions<UploadOptions> options, IHostEnvironment environment, ILogger<UploadFileStore> logger)
    {
        Root = Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.Value.DataPath));
        _logger = logger;
    }

    public string Root { get; }

    /// <summary>
    /// Reads every record in the folder, then deletes what a crash left behind. A record that cannot be used, for
    /// whatever reason (it cannot be opened or read, its JSON is broken, its shape is wrong), is logged and skipped:
    /// one damaged file must not keep the server from starting. Files not named like the store's are left alone.
    /// </summary>
    /// <param name="leftoversOlderThan">
    /// Which leftovers are deleted: all (zero, a folder of one node's own: nothing is being written at start), only
    /// those last written longer ago than this (a folder other nodes write now: a record half written may be one
    /// another node is writing at this moment), or none (<see langword="null"/>, a look only).
    /// </param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    public async Task<List<(UploadRecord Record, long Bytes)>> LoadAllAsync(TimeSpan? leftoversOlderThan, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        // Every entry, directories and broken links included: a record's name that is taken by anything at all keeps
        // the bytes beside it from being taken for a leftover.
        var entries = new DirectoryInfo(Root).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        var names = entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var uploads = new List<(UploadRecord, long)>();
        foreach (var entry in entries)
        {
            if (IdOf(entry.Name, RecordSuffix) is not { } id)
                continue;
            try
            {
                // On a thread of its own and bounded: opening a file whose read never comes (a FIFO, a hung network
                // mount) would otherwise hold the start for ever; such a record is skipped like any unreadable one.
                var path = entry.FullName;
                uploads.Add(await Task.Run(() => LoadAsync(path, id, cancellationToken), cancellationToken)
                    .WaitAsync(RecordReadTimeout, cancellationToken).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                UploadsLog.RecordUnreadable(_logger, entry.FullName, ex);
            }
        }
        if (leftoversOlderThan is { } age)
            DeleteLeftovers(entries.Where(e => DateTime.UtcNow - e.LastWriteTimeUtc >= age).ToList(), names, uploads);
        return uploads;
    }

    /// <summary>
    /// One upload's record and bytes as they are in the folder now, or <see langword="null"/> when it has no record
    /// (never had, or deleted). For a folder other nodes write: a record is replaced by a rename, so it is read whole,
    /// old or new.
    /// </summary>
    public async Task<(UploadRecord Record, long Bytes)?> TryLoadAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await LoadAsync(RecordPath(id), id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>How long reading one record at start may take before it is skipped as unreadable.</summary>
    private static readonly TimeSpan RecordReadTimeout = TimeSpan.FromSeconds(10);

    private async Task<(UploadRecord, long)> LoadAsync(string path, string id, CancellationToken cancellationToken)
    {
        UploadRecord record;
        await using (var file = File.OpenRead(path))
        {
            record = await JsonSerializer.DeserializeAsync<UploadRecord>(file, s_json, cancellationToken).ConfigureAwait(false)
                     ?? throw new InvalidDataException("The record is null.");
        }
        if (record.ShapeError(id) is { } error)
            throw new InvalidDataException($"The record is not an upload's: {error}.");
        var data = new FileInfo(DataPath(id));
        var length = record.Failed || !data.Exists ? 0 : data.Length;
        // A record that disagrees with its bytes could never be appended to, completed or cleaned: it is skipped.
        if (!record.Failed && record.TotalBytes is { } total && length > total)
            throw new InvalidDataException($"The upload has {length} bytes on disk, more than its totalBytes ({total}).");
        if (!record.Failed && record.Processed is { } processed && processed.Bytes > length)
            throw new InvalidDataException($"The upload has {length} bytes on disk, fewer than the {processed.Bytes} its processing got to.");
        if (record.Failed || !data.Exists)
            return (record, 0);
        // Appends do not rewrite the record: the bytes' own time says when the upload was last touched.
        var touched = data.LastWriteTimeUtc > record.UpdatedUtc ? data.LastWriteTimeUtc : record.UpdatedUtc;
        return (record with { UpdatedUtc = touched }, data.Length);
    }

    /// <summary>
    /// Deletes the files that only a crash leaves: a record half written (<c>{id}.json.tmp</c>, written aside and
    /// never moved into place), bytes without a record (the record goes first when an upload is deleted), and the
    /// bytes of a failed upload (its failure is saved before they go).
    /// </summary>
    private void DeleteLeftovers(List<FileSystemInfo> entries, HashSet<string> names, List<(UploadRecord Record, long Bytes)> uploads)
    {
        var failed = uploads.Where(u => u.Record.Failed).Select(u => u.Record.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in entries.OfType<FileInfo>())
        {
            string? what = null;
            if (IdOf(entry.Name, TemporarySuffix) is not null)
                what = "a record half written";
            else if (IdOf(entry.Name, DataSuffix) is { } id)
                what = !names.Contains(id + RecordSuffix) ? "bytes without a record" : failed.Contains(id) ? "the bytes of a failed upload" : null;
            if (what is null)
                continue;
            try
            {
                entry.Delete();
                UploadsLog.LeftoverDeleted(_logger, entry.FullName, what);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                UploadsLog.LeftoverNotDeleted(_logger, entry.FullName, what, ex);
            }
        }
    }

    /// <summary>The upload id a file of the store is named after, or null for a name the store does not make.</summary>
    private static string? IdOf(string fileName, string suffix) =>
        fileName.EndsWith(suffix, StringComparison.Ordinal) && fileName[..^suffix.Length] is var id && UploadIds.IsWellFormed(id) ? id : null;

    public async Task SaveAsync(UploadRecord record, CancellationToken cancellationToken)
    {
        // Written aside and moved into place, so that a crash never leaves half a record (only a temporary file,
        // which the next start deletes).
        var path = RecordPath(record.Id);
        var temporary = Path.Combine(Root, record.Id + TemporarySuffix);
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, useAsync: true))
            await JsonSerializer.SerializeAsync(file, record, s_json, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Opens an upload's bytes for appending at <paramref name="offset"/>; anything past it is cut off.</summary>
    public FileStream OpenAppend(string id, long offset)
    {
        var file = new FileStream(DataPath(id), new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            Options = FileOptions.Asynchronous,
            BufferSize = 0,
        });
        file.SetLength(offset);
        file.Position = offset;
        return file;
    }

    public FileStream OpenRead(string id, long offset)
    {
        var file = new FileStream(DataPath(id), new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            BufferSize = 0,
        });
        file.Position = offset;
        return file;
    }

    public void DeleteData(string id) => File.Delete(DataPath(id));

    /// <summary>
    /// Deletes an upload's files, its record first: once the record is gone so is the upload, and bytes that could
    /// not follow are a leftover the next start deletes. (Bytes first, a crash in between would leave a record
    /// whose bytes are missing.)
    /// </summary>
    public void Delete(string id)
    {
        File.Delete(RecordPath(id));
        File.Delete(DataPath(id));
    }

    private string DataPath(string id) => Path.Combine(Root, UploadIds.Require(id) + DataSuffix);

    private string RecordPath(string id) => Path.Combine(Root, UploadIds.Require(id) + RecordSuffix);
}

/// <summary>Upload ids: server-made, so a path built from one stays inside the data folder.</summary>
internal static class UploadIds
{
    public static string New() => ServerIds.New();

    public static bool IsWellFormed(string? id) => ServerIds.IsWellFormed(id);

    public static string Require(string id) =>
        IsWellFormed(id) ? id : throw new ArgumentException($"'{id}' is not an upload id.", nameof(id));
}
