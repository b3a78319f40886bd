namespace SensorHub.Server.Uploads;

/// <summary>
/// What each owner (a token's subject) keeps: their uploads that have not failed, and those uploads' bytes on disk.
/// Counted in memory and rebuilt from the records at start, so that a check costs no walk of the data folder.
/// </summary>
/// <remarks>
/// One lock for all owners: each operation is a look-up and an addition, and checking and adding under one lock is
/// what keeps two uploads of one owner from passing a limit together (each reserves its chunk before writing it).
/// </remarks>
internal sealed class UploadQuotas(long maxBytesPerOwner, int maxUploadsPerOwner)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Usage> _owners = new(StringComparer.Ordinal);

    /// <summary>Counts one more upload for <paramref name="ownerId"/> unless they keep their most already.</summary>
    /// <param name="kept">The uploads they keep, this one included when it was counted.</param>
    public bool TryAddUpload(string ownerId, out int kept)
    {
        lock (_gate)
        {
            var usage = UsageOf(ownerId);
            if (usage.Uploads >= maxUploadsPerOwner)
            {
                kept = usage.Uploads;
                return false;
            }
            kept = ++usage.Uploads;
            return true;
        }
    }

    /// <summary>Reserves <paramref name="bytes"/> for <paramref name="ownerId"/> unless they would pass their most.</summary>
    /// <param name="stored">The bytes stored (and reserved) before this call.</param>
    public bool TryAddBytes(string ownerId, long bytes, out long stored)
    {
        lock (_gate)
        {
            var usage = UsageOf(ownerId);
            stored = usage.Bytes;
            if (bytes > maxBytesPerOwner - usage.Bytes)
                return false;
            usage.Bytes += bytes;
            return true;
        }
    }

    /// <summary>Gives back bytes reserved for a chunk that was not written.</summary>
    public void RemoveBytes(string ownerId, long bytes) => Remove(ownerId, uploads: 0, bytes);

    /// <summary>Gives back an upload's share: it failed or was deleted.</summary>
    public void RemoveUpload(string ownerId, long bytes) => Remove(ownerId, uploads: 1, bytes);

    /// <summary>Counts an upload found at start, whatever the limits: they may have been lowered since it was stored.</summary>
    public void AddLoaded(string ownerId, long bytes)
    {
        lock (_gate)
        {
            var usage = UsageOf(ownerId);
            usage.Uploads++;
            usage.Bytes += bytes;
        }
    }

    /// <summary>What <paramref name="ownerId"/> keeps now.</summary>
    public (int Uploads, long Bytes) Of(string ownerId)
    {
        lock (_gate)
            return _owners.TryGetValue(ownerId, out var usage) ? (usage.Uploads, usage.Bytes) : (0, 0);
    }

    private void Remove(string ownerId, int uploads, long bytes)
    {
        lock (_gate)
        {
            if (!_owners.TryGetValue(ownerId, out var usage))
                return;
            usage.Uploads = Math.Max(0, usage.Uploads - uploads);
            usage.Bytes = Math.Max(0, usage.Bytes - bytes);
            // An owner who keeps nothing takes no memory: over time many devices come and go.
            if (usage is { Uploads: 0, Bytes: 0 })
                _owners.Remove(ownerId);
        }
    }

    private Usage UsageOf(string ownerId)
    {
        if (!_owners.TryGetValue(ownerId, out var usage))
            _owners[ownerId] = usage = new Usage();
        return usage;
    }

    private sealed class Usage
    {
        public int Uploads;
        public long Bytes;
    }
}
