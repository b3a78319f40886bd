using System.Diagnostics.Metrics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Sessions;

/// <summary>
/// The live sessions' instruments on the <see cref="SensorHubTelemetry.MeterName"/> meter, recorded by the session
/// store (in memory, or on Redis) where a change happens.
/// </summary>
/// <remarks>
/// An event is counted once, by the node that publishes it (the one whose call or script made it), never once per
/// participant it reaches. A participant (a user present in a session, however many streams they hold) is counted
/// by one node only: in memory by the one node there is; on Redis by the node of the user's stream with the smallest member id in
/// the session (see <c>RedisLocalSession</c>), so that the sum over the nodes is the cluster's participants.
/// </remarks>
public sealed class SessionMetrics
{
    /// <summary>Participants present now (unit <c>{participant}</c>), over the sessions this node counts.</summary>
    public const string ParticipantsActiveInstrument = "sensorhub.session.participants.active";

    /// <summary>Session events published (unit <c>{event}</c>), tagged <c>sensorhub.session.event.kind</c>; a joiner's snapshot is not one.</summary>
    public const string EventsPublishedInstrument = "sensorhub.session.events.published";

    private readonly UpDownCounter<long> _participants;
    private readonly Counter<long> _events;

    public SessionMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SensorHubTelemetry.MeterName);
        _participants = meter.CreateUpDownCounter<long>(
            ParticipantsActiveInstrument, "{participant}", "Users present in live sessions now, each counted once however many streams they hold.");
        _events = meter.CreateCounter<long>(
            EventsPublishedInstrument, "{event}", "Session events published, by kind, once per event (not per participant it reaches).");
    }

    /// <summary>Participants came (<paramref name="delta"/> above 0) or went (below 0).</summary>
    public void ParticipantsChanged(long delta)
    {
        if (delta != 0)
            _participants.Add(delta);
    }

    /// <summary><paramref name="count"/> events of <paramref name="kind"/> (a <see cref="Contracts.SessionEventKinds"/> value) were published.</summary>
    public void Published(string kind, long count = 1)
    {
        if (count > 0)
            _events.Add(count, new KeyValuePair<string, object?>(SensorHubTelemetry.SessionEventKind, kind));
    }
}
