using System.Security.Cryptography;
using System.Threading.Channels;
using SensorHub.Contracts;
using SensorHub.Server.Uploads.Processing;

namespace SensorHub.Server.Uploads;

/// <summary>
/// One upload in memory: its record, the bytes durably written, its one writer, and its watchers. The hash and the
/// processor belong to the writer: only the <c>Upload</c> stream that holds the write slot (and the worker it
/// drains) touches them.
/// </summary>
internal sealed class UploadState(UploadRecord record, long receivedBytes)
{
    private readonly Lock _gate = new();
    private readonly List<Channel<UploadStatus>> _watchers = [];
    private UploadRecord _record = record;
    private long _receivedBytes = receivedBytes;
    private int _writing;
    private bool _watchesEnded;

    public string Id => _record.Id;

    public UploadRecord Record
    {
        get
        {
            lock (_gate)
                return _record;
        }
    }

    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);

    public bool IsWriting => Volatile.Read(ref _writing) != 0;

    /// <summary>Watchers registered now.</summary>
    public int WatcherCount
    {
        get
        {
            lock (_gate)
                return _watchers.Count;
        }
    }

    /// <summary>The running SHA-256 of the bytes written; <see langword="null"/> after a restart until a writer rebuilds it.</summary>
    public IncrementalHash? Hasher { get; set; }

    public IUploadProcessor? Processor { get; set; }

    public bool TryBeginWrite() => Interlocked.CompareExchange(ref _writing, 1, 0) == 0;

    public void EndWrite() => Volatile.Write(ref _writing, 0);

    /// <summary>
    /// Takes the record and bytes as read again from a data folder other nodes write too: done by the holder of the
    /// write slot, whose view then is the folder's. The watchers in memory see nothing of it (shared, a watch follows
    /// the folder).
    /// </summary>
    public void Reload(UploadRecord record, long receivedBytes)
    {
        lock (_gate)
        {
            _record = record;
            _receivedBytes = receivedBytes;
        }
    }

    /// <summary>
    /// As <see cref="Reload"/>, unless a writer of this node holds the write slot: then its view is newer than any
    /// read of the folder.
    /// </summary>
    public void ReloadIfIdle(UploadRecord record, long receivedBytes)
    {
        lock (_gate)
        {
            if (IsWriting)
                return;
            _record = record;
            _receivedBytes = receivedBytes;
        }
    }

    public UploadStatus Status
    {
        get
        {
            lock (_gate)
                return StatusOf(_record, _receivedBytes);
        }
    }

    /// <summary>Records bytes written to disk and tells the watchers.</summary>
    public void Advance(long bytes, DateTime nowUtc) =>
        Change(record => record with { UpdatedUtc = nowUtc }, bytes, final: false);

    /// <summary>Records that every byte arrived (and was processed), tells the watchers and ends their streams.</summary>
    public UploadRecord Complete(string sha256, ProcessingCheckpoint? processed, DateTime nowUtc) =>
        Change(
            record => record with { Complete = true, Sha256 = sha256, Processed = processed ?? record.Processed, UpdatedUtc = nowUtc, CompletedUtc = nowUtc },
            0,
            final: true);

    /// <summary>Records how far the processor got; the watchers see nothing of it.</summary>
    public UploadRecord SetProcessed(ProcessingCheckpoint processed)
    {
        lock (_gate)
            return _record = _record with { Processed = processed };
    }

    /// <summary>Records that the upload failed and its bytes are gone, tells the watchers and ends their streams.</summary>
    public UploadRecord Fail(string error, DateTime nowUtc) =>
        Change(record => record with { Error = error, UpdatedUtc = nowUtc }, -ReceivedBytes, final: true);

    /// <summary>
    /// A watcher's buffer: the current status at once, then each change. It keeps only the newest status, so a slow
    /// watcher skips to the latest; it completes after the final status, or once the server stops
    /// (<paramref name="stopping"/>, or <see cref="EndWatches"/> already ran).
    /// </summary>
    public ChannelReader<UploadStatus> Watch(bool stopping)
    {
        var channel = Channel.CreateBounded<UploadStatus>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate)
        {
            channel.Writer.TryWrite(StatusOf(_record, _receivedBytes));
            if (IsFinal(_record) || stopping || _watchesEnded)
                channel.Writer.TryComplete();
            else
                _watchers.Add(channel);
        }
        return channel.Reader;
    }

    /// <summary>The server is stopping: every watch ends after the newest status it holds, and so will later ones.</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            _watchesEnded = true;
            foreach (var watcher in _watchers)
                watcher.Writer.TryComplete();
            _watchers.Clear();
        }
    }

    public void Unwatch(ChannelReader<UploadStatus> reader)
    {
        lock (_gate)
            _watchers.RemoveAll(channel => channel.Reader == reader);
    }

    private UploadRecord Change(Func<UploadRecord, UploadRecord> change, long bytes, bool final)
    {
        lock (_gate)
        {
            _record = change(_record);
            _receivedBytes += bytes;
            if (_watchers.Count == 0)
                return _record;
            var status = StatusOf(_record, _receivedBytes);
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(status);
                if (final)
                    watcher.Writer.TryComplete();
            }
            if (final)
                _watchers.Clear();
            return _record;
        }
    }

    private static bool IsFinal(UploadRecord record) => record.Complete || record.Error is not null;

    private static UploadStatus StatusOf(UploadRecord record, long receivedBytes) => new()
    {
        UploadId = record.Id,
        Name = record.Name,
        ContentType = record.ContentType,
        ReceivedBytes = receivedBytes,
        TotalBytes = record.TotalBytes,
        Complete = record.Complete,
        Sha256 = record.Sha256,
        Error = record.Error,
    };
}
