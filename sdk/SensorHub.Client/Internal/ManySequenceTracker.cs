using Microsoft.Extensions.Logging;
using SensorHub.Contracts;

namespace SensorHub.Client.Internal;

/// <summary>
/// A <c>SubscribeMany</c> stream's positions: one <see cref="SequenceTracker"/> per sensor, which keeps each sensor's
/// rules (where it resumes, what is a duplicate, what is a gap) exactly as a one-sensor subscription has them, and the
/// knowledge of which matching sensors existed, so that a sensor that appeared while the client was away is resumed
/// from its first reading rather than live. Used by one consumer at a time (not thread-safe).
/// </summary>
/// <remarks>
/// <para>
/// Sensors the stream starts live have no position to resume from until they deliver. An unpaced stream therefore
/// lists the matching sensors before it opens (<see cref="BeginListing"/>): a sensor listed then that has delivered
/// nothing by the time of a drop resumes from its newest sequence at that listing plus one (a moment before the stream
/// opened: it may deliver a reading or two from just before, never lose one). A sensor listed at a resume that the
/// stream did not know is new: it resumes from its first kept reading (<c>fromSequence</c> 0).
/// </para>
/// <para>
/// At most <c>capacity</c> sensors are kept (by default <see cref="SubscribeManyOptions.MaxFromSequences"/>, so that
/// every resume's <c>fromSequences</c> fits the contract's bound). Past it, the sensors that delivered least recently
/// are forgotten, a tenth of the table at a time, and the tracker no longer knows every sensor: until a listing that
/// fits again, a sensor it does not know resumes live (what it published while the client was away is neither
/// delivered nor reported), since replaying from the first reading of a sensor that may be old would flood the stream.
/// </para>
/// </remarks>
internal sealed class ManySequenceTracker
{
    private readonly Dictionary<string, Sensor> _sensors = new(StringComparer.Ordinal);
    private readonly SensorPattern _pattern;
    private readonly double? _maxRate;
    private readonly Action<SequenceGap> _report;
    private readonly int _capacity;
    private readonly ILogger _logger;
    // Ticks of a logical clock: which sensor delivered least recently, for forgetting past the capacity.
    private long _clock;
    // Whether every sensor matching now is in the table: from a complete listing on, until a sensor is forgotten.
    private bool _knowsEverySensor;
    private bool _opened;
    // While a listing runs: whether an unknown sensor is new (the table knew every sensor when the listing began).
    private bool _listingFindsNewSensors;
    private bool _forgotDuringListing;

    public ManySequenceTracker(
        SensorPattern pattern, SubscribeManyOptions? options, Action<SequenceGap> report, ILogger logger, int capacity = SubscribeManyOptions.MaxFromSequences)
    {
        _pattern = pattern;
        _maxRate = options?.MaxRate;
        _report = report;
        _logger = logger;
        _capacity = capacity;
        // Ids the pattern does not match are ignored by the server: they would only take room here.
        foreach (var (sensorId, from) in options?.FromSequences ?? new Dictionary<string, long>())
        {
            if (pattern.Matches(sensorId))
                Add(sensorId, from, startsLive: false);
        }
    }

    /// <summary>
    /// Whether attempts list the matching sensors first. Only an unpaced stream does: a paced one resumes every sensor
    /// live (as a paced <c>Subscribe</c> does), so it has no position to learn.
    /// </summary>
    public bool WantsListing => _maxRate is null;

    /// <summary>How many sensors the tracker holds a position or a tracker for.</summary>
    public int Count => _sensors.Count;

    /// <summary>Whether the tracker knows every matching sensor (see the remarks).</summary>
    public bool KnowsEverySensor => _knowsEverySensor;

    /// <summary>Starts a listing of the matching sensors; <see cref="Listed"/> takes each, <see cref="EndListing"/> ends it.</summary>
    public void BeginListing()
    {
        _listingFindsNewSensors = _opened && _knowsEverySensor;
        _forgotDuringListing = false;
    }

    /// <summary>
    /// One sensor of the listing (those the pattern does not match are passed over). Before the first attempt, or
    /// while the tracker does not know every sensor, an unknown one starts live and would resume from after its newest
    /// reading now; at a resume that knows every sensor, an unknown one is new and resumes from its first reading.
    /// </summary>
    /// <returns>Whether the listing is worth going on with: not once more sensors matched than the tracker can hold.</returns>
    public bool Listed(SensorInfo sensor)
    {
        if (!_pattern.Matches(sensor.Id) || _sensors.ContainsKey(sensor.Id))
            return true;
        if (_listingFindsNewSensors)
            Add(sensor.Id, 0, startsLive: false);
        else
            Add(sensor.Id, sensor.LastSequence == 0 ? 0 : sensor.LastSequence + 1, startsLive: true);
        return !_forgotDuringListing;
    }

    /// <summary>Ends a listing: <paramref name="complete"/> when it named every matching sensor the caller may read.</summary>
    public void EndListing(bool complete) => _knowsEverySensor = complete && !_forgotDuringListing;

    /// <summary>
    /// The options of the next <c>SubscribeMany</c> call: each sensor's next position (as its tracker gives it: the
    /// caller's <c>fromSequences</c> until the sensor delivers, the last delivered plus one after that; none once a
    /// paced sensor has delivered), and the caller's <c>maxRate</c>.
    /// </summary>
    public SubscribeManyOptions? NextOptions()
    {
        _opened = true;
        Dictionary<string, long>? from = null;
        foreach (var (sensorId, sensor) in _sensors)
        {
            if (sensor.StartsLive)
            {
                // Listed but not named: the server starts it live this time, as any sensor the caller did not name;
                // where it stood at the listing is its position from the next attempt on.
                sensor.StartsLive = false;
                continue;
            }
            if (sensor.Tracker.NextOptions()?.FromSequence is { } sequence)
                (from ??= new Dictionary<string, long>(StringComparer.Ordinal))[sensorId] = sequence;
        }
        return from is null && _maxRate is null ? null : new SubscribeManyOptions { MaxRate = _maxRate, FromSequences = from };
    }

    /// <summary>The server ended the stream (it does so only when it stops): a jump at each sensor's next seam is a restart.</summary>
    public void ServerMayHaveRestarted()
    {
        foreach (var sensor in _sensors.Values)
            sensor.Tracker.ServerMayHaveRestarted();
    }

    /// <summary>
    /// Whether to deliver <paramref name="reading"/>: its sensor's tracker decides, and reports a gap before it where
    /// there is one. A jump at a seam that nothing said was a restart is handed back in <paramref name="unclassified"/>
    /// for the caller to classify and report before the reading (see <see cref="SequenceTracker.TakeUnclassifiedGap"/>).
    /// </summary>
    public bool Accept(Reading reading, out SequenceGap? unclassified)
    {
        if (!_sensors.TryGetValue(reading.SensorId, out var sensor))
            sensor = Add(reading.SensorId, from: null, startsLive: false);
        if (!sensor.Tracker.Accept(reading))
        {
            unclassified = null;
            return false;
        }
        sensor.LastUsed = ++_clock;
        unclassified = sensor.Tracker.TakeUnclassifiedGap();
        return true;
    }

    private Sensor Add(string sensorId, long? from, bool startsLive)
    {
        var options = from is null && _maxRate is null ? null : new SubscribeOptions { FromSequence = from, MaxRate = _maxRate };
        var sensor = new Sensor(new SequenceTracker(sensorId, options, _report))
        {
            LastUsed = ++_clock,
            StartsLive = startsLive,
        };
        _sensors[sensorId] = sensor;
        if (_sensors.Count > _capacity)
            Forget();
        return sensor;
    }

    /// <summary>Forgets the sensors that delivered least recently, a tenth of the capacity at once (so that this is rare).</summary>
    private void Forget()
    {
        var keep = Math.Max(1, _capacity - Math.Max(1, _capacity / 10));
        var forgotten = _sensors.Count - keep;
        foreach (var (sensorId, _) in _sensors.OrderBy(s => s.Value.LastUsed).Take(forgotten).ToList())
            _sensors.Remove(sensorId);
        _knowsEverySensor = false;
        _forgotDuringListing = true;
        ClientLog.ManyForgotSensors(_logger, _pattern.Text, forgotten, _capacity);
    }

    private sealed class Sensor(SequenceTracker tracker)
    {
        public SequenceTracker Tracker { get; } = tracker;

        public long LastUsed { get; set; }

        /// <summary>
        /// Listed before the first attempt, or at a resume while the tracker did not know every sensor: the next
        /// attempt leaves it out of <c>fromSequences</c>, so it starts live.
        /// </summary>
        public bool StartsLive { get; set; }
    }
}
