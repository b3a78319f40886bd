using System.Runtime.CompilerServices;
using SensorHub.Contracts;
using SensorHub.Server.Identity;

namespace SensorHub.Server.Uploads;

internal sealed partial class UploadService
{
    /// <summary>
    /// A complete upload's bytes from <paramref name="offset"/>, in chunks of <see cref="UploadOptions.DownloadChunkBytes"/>,
    /// read with asynchronous file I/O one chunk at a time: the client's pace sets the reading's. Once the server
    /// begins to stop it completes after the chunk in hand, short of the end: the client compares what it got with
    /// the upload's size and resumes from there elsewhere.
    /// </summary>
    public async IAsyncEnumerable<byte[]> DownloadAsync(
        string? uploadId, long offset, SensorHubUser user, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = await FindAsync(uploadId, user, cancellationToken).ConfigureAwait(false);
        if (!state.Record.Complete)
            throw new UploadException(SensorHubErrors.UploadNotComplete, $"uploadId: upload '{state.Id}' is not complete; only complete uploads can be downloaded.");
        var length = state.ReceivedBytes;
        if (offset < 0 || offset > length)
            throw new UploadException(SensorHubErrors.InvalidArgument, $"offset must be from 0 to the upload's {length} bytes; it was {offset}.");

        await using var file = _store.OpenRead(state.Id, offset);
        for (var remaining = length - offset; remaining > 0 && !_shutdown.IsStopping;)
        {
            var chunk = new byte[(int)Math.Min(remaining, _options.DownloadChunkBytes)];
            await file.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
            remaining -= chunk.Length;
            yield return chunk;
        }
    }
}
