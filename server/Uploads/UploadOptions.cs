using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Uploads;

/// <summary>Settings of uploads and downloads, bound from <c>SensorHub:Uploads</c>.</summary>
public sealed class UploadOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Uploads";

    /// <summary>The folder uploads are written to; a relative path is under the content root. Default <c>data/uploads</c>.</summary>
    [Required]
    public string DataPath { get; set; } = "data/uploads";

    /// <summary>The largest chunk, in bytes. Default 1 MiB. The hub's message size limit is raised to fit it, base64 included.</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest upload, in bytes. Default 4 GiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Upload streams one connection may run at once. Default 4.</summary>
    [Range(1, 1_000)]
    public int MaxUploadsPerConnection { get; set; } = 4;

    /// <summary>Upload streams the server runs at once, over all connections. Default 64.</summary>
    [Range(1, 100_000)]
    public int MaxConcurrentUploads { get; set; } = 64;

    /// <summary>How long an unfinished (or failed) upload may sit untouched before it is deleted. Default 24 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "365.00:00:00")]
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the janitor looks for stale uploads and for complete ones past their retention. Default 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a complete upload is kept after it completed; the janitor deletes it at its next look after that.
    /// <c>00:00:00</c> keeps complete uploads forever. Default 30 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "36500.00:00:00")]
    public TimeSpan RetainCompleteFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The bytes one owner (a token's subject) may store over all their uploads that have not failed; a chunk that
    /// would pass it is refused whole (<c>quota_exceeded</c>), and so is a <c>totalBytes</c> over it. Default 10 GiB.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxBytesPerOwner { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>
    /// The uploads one owner may keep (unfinished and complete; failed ones do not count); <c>BeginUpload</c> over it
    /// is refused (<c>quota_exceeded</c>). Default 1,000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxUploadsPerOwner { get; set; } = 1_000;

    /// <summary>
    /// The free space the data folder's disk keeps: a chunk that would leave less is refused before it is written
    /// (<c>insufficient_storage</c>); the upload keeps what it has and can be resumed later. <c>0</c> turns the
    /// floor off. Default 1 GiB.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeDiskBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>The size of the chunks <c>Download</c> sends, in bytes. Default 64 KiB.</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int DownloadChunkBytes { get; set; } = 64 * 1024;

    /// <summary>Error lines and rejected rows listed in a result; all are counted. Default 10.</summary>
    [Range(0, 1_000)]
    public int MaxSamples { get; set; } = 10;

    /// <summary>
    /// The hub message that carries the largest chunk: under JSON a chunk travels as base64 (4 bytes for every 3),
    /// plus the invocation's envelope.
    /// </summary>
    public long LargestChunkMessage => (MaxChunkBytes + 2L) / 3 * 4 + 4096;
}

[OptionsValidator]
internal sealed partial class UploadOptionsValidator : IValidateOptions<UploadOptions>;
