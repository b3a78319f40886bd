using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace SensorHub.Client.Internal;

/// <summary>
/// Reads an upload's content in chunks and hashes it. Every byte is hashed once, the first time it is read: after a
/// resume the span between the server's <c>receivedBytes</c> and what was already read is read again but not hashed
/// again, so the hash stays that of the whole content.
/// </summary>
internal sealed class UploadSource(Stream content, long? totalBytes, int chunkSize, Action<long> sent) : IDisposable
{
    private readonly long _origin = content.CanSeek ? content.Position : 0;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;
    private long _hashed;

    /// <summary>Bytes read and hashed so far, from the start of the content.</summary>
    public long Hashed => _hashed;

    public string Sha256 => Convert.ToHexStringLower(_hash.GetCurrentHash());

    /// <summary>Starts sending from <paramref name="offset"/> (seeks back where it is needed).</summary>
    public Attempt StartAt(long offset)
    {
        if (offset != _position)
        {
            if (!content.CanSeek)
                throw new InvalidOperationException("The upload's stream cannot seek, so it cannot resume.");
            if (offset > _hashed)
                throw new InvalidOperationException($"The server holds {offset} bytes, more than the {_hashed} sent.");
            content.Position = _origin + offset;
            _position = offset;
        }
        return new Attempt(this);
    }

    public void Dispose() => _hash.Dispose();

    private async Task<byte[]?> ReadChunkAsync(CancellationToken cancellationToken)
    {
        var size = chunkSize;
        if (totalBytes is { } total)
            size = (int)Math.Min(size, total - _position);
        if (size <= 0)
            return null;
        var chunk = new byte[size];
        var filled = 0;
        while (filled < size)
        {
            var read = await content.ReadAsync(chunk.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                break;
            filled += read;
        }
        if (filled == 0)
            return null;
        if (filled < size)
            Array.Resize(ref chunk, filled);
        var end = _position + filled;
        if (end > _hashed)
        {
            _hash.AppendData(chunk, (int)(_hashed - _position), (int)(end - _hashed));
            _hashed = end;
        }
        _position = end;
        return chunk;
    }

    /// <summary>
    /// One <c>Upload</c> call's chunk stream. SignalR may still be pulling from it after the call failed: abandoning it
    /// waits for a read in progress and stops further reads, so that two attempts never read the content at once.
    /// </summary>
#pragma warning disable CA1001 // The semaphore has no wait handle to free, and SignalR may still step the stream after the call.
    internal sealed class Attempt(UploadSource source)
#pragma warning restore CA1001
    {
        private readonly SemaphoreSlim _turn = new(1, 1);
        private bool _abandoned;

        public async IAsyncEnumerable<byte[]> ChunksAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            while (true)
            {
                byte[]? chunk;
                await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    chunk = _abandoned ? null : await source.ReadChunkAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _turn.Release();
                }
                if (chunk is null)
                    yield break;
                yield return chunk;
                // SignalR asks for the next item once it has written this one to the transport.
                if (!_abandoned)
                    source.ReportSent();
            }
        }

        public async Task AbandonAsync()
        {
            await _turn.WaitAsync().ConfigureAwait(false);
            _abandoned = true;
            _turn.Release();
        }
    }

    private void ReportSent() => sent(_position);
}
