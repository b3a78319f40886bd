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
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly ILogger<UploadFileStore> _logger;

    public UploadFileStore(IOptions<UploadOptions> options, IHostEnvironment environment, ILogger<UploadFileStore> logger)
    {
        Root = Path.GetFullPath(Path.Combine(environment.ContentRootPath, options.Value.DataPath));
        _logger = logger;
    }

    public string Root { get; }

    public async Task<List<(UploadRecord Record, long Bytes)>> LoadAllAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        var uploads = new List<(UploadRecord, long)>();
        foreach (var path in Directory.EnumerateFiles(Root, "*.json"))
        {
            var record = await ReadRecordAsync(path, cancellationToken).ConfigureAwait(false);
            if (record is null || !UploadIds.IsWellFormed(record.Id) || Path.GetFileNameWithoutExtension(path) != record.Id)
                continue;
            var data = new FileInfo(DataPath(record.Id));
            if (!data.Exists)
            {
                uploads.Add((record, 0));
                continue;
            }
            // Appends do not rewrite the record: the bytes' own time says when the upload was last touched.
            var touched = data.LastWriteTimeUtc > record.UpdatedUtc ? data.LastWriteTimeUtc : record.UpdatedUtc;
            uploads.Add((record with { UpdatedUtc = touched }, data.Length));
        }
        return uploads;
    }

    /// <summary>A record, or null when it cannot be read: one damaged file must not keep the server from starting.</summary>
    private async Task<UploadRecord?> ReadRecordAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<UploadRecord>(file, s_json, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            UploadsLog.RecordUnreadable(_logger, path, ex);
            return null;
        }
    }

    public async Task SaveAsync(UploadRecord record, CancellationToken cancellationToken)
    {
        // Written aside and moved into place, so that a crash never leaves half a record.
        var path = RecordPath(record.Id);
        var temporary = path + ".tmp";
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

    public void Delete(string id)
    {
        File.Delete(DataPath(id));
        File.Delete(RecordPath(id));
    }

    private string DataPath(string id) => Path.Combine(Root, UploadIds.Require(id) + ".data");

    private string RecordPath(string id) => Path.Combine(Root, UploadIds.Require(id) + ".json");
}

/// <summary>Upload ids: server-made, so a path built from one stays inside the data folder.</summary>
internal static class UploadIds
{
    public static string New() => ServerIds.New();

    public static bool IsWellFormed(string? id) => ServerIds.IsWellFormed(id);

    public static string Require(string id) =>
        IsWellFormed(id) ? id : throw new ArgumentException($"'{id}' is not an upload id.", nameof(id));
}
