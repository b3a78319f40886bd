using System.Text.Json.Serialization;

namespace SensorHub.Contracts;

/// <summary>
/// The body of <c>GET /api/stats</c>: counters since the server started, and what is open now. On a Redis cluster
/// each count is the answering node's (<see cref="Node"/>) except those <see cref="ClusterWide"/> names.
/// </summary>
public sealed record ServerStats
{
    /// <summary>Hub connections open now.</summary>
    [JsonPropertyName("connections")]
    public long Connections { get; init; }

    /// <summary>Server-to-client stream generators running now, of every streaming hub method.</summary>
    [JsonPropertyName("activeStreams")]
    public long ActiveStreams { get; init; }

    /// <summary>Sensors the hub knows.</summary>
    [JsonPropertyName("sensors")]
    public long Sensors { get; init; }

    /// <summary>Readings accepted and given a sequence.</summary>
    [JsonPropertyName("readingsPublished")]
    public long ReadingsPublished { get; init; }

    /// <summary>Readings handed to subscribers' streams, replays included.</summary>
    [JsonPropertyName("readingsDelivered")]
    public long ReadingsDelivered { get; init; }

    /// <summary>Readings a slow subscriber's full buffer dropped (oldest first).</summary>
    [JsonPropertyName("readingsDropped")]
    public long ReadingsDropped { get; init; }

    /// <summary>
    /// Refusals since start by error code (every code of <see cref="SensorHubErrors.All"/>, 0 when it never
    /// happened): hub calls refused with that code, and published items or CSV rows rejected with it.
    /// </summary>
    [JsonPropertyName("refusals")]
    public IReadOnlyDictionary<string, long> Refusals { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// The node that answered, on a Redis cluster (its id among the nodes, new at every start); <see langword="null"/>
    /// on the in-memory engine, where the server is one process (the field is then left out).
    /// </summary>
    [JsonPropertyName("node")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Node { get; init; }

    /// <summary>
    /// The fields counted over the whole cluster (<c>sensors</c> and <c>readingsPublished</c> on a Redis cluster, read
    /// from Redis at most a second ago); every other count is this node's. <see langword="null"/> (left out) on the
    /// in-memory engine, whose counts are all the one server's.
    /// </summary>
    [JsonPropertyName("clusterWide")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ClusterWide { get; init; }
}
