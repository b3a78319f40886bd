using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Sessions;

/// <summary>Limits of live sessions, bound from <c>SensorHub:Sessions</c>.</summary>
public sealed class LiveSessionOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Sessions";

    /// <summary>Sessions one user (by the token's subject) may own at once; ended sessions do not count. Default 10.</summary>
    [Range(1, 10_000)]
    public int MaxOpenSessionsPerUser { get; set; } = 10;

    /// <summary>
    /// Distinct users (by the token's subject) present in one session at once; a user's further streams do not count,
    /// but each stream of a token without a subject is a participant of its own. Default 100.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxParticipantsPerSession { get; set; } = 100;

    /// <summary>Sensors one session may watch. Default 50.</summary>
    [Range(1, 10_000)]
    public int MaxSensorsPerSession { get; set; } = 50;

    /// <summary>Users one private session may invite. Default 100.</summary>
    [Range(0, 10_000)]
    public int MaxInvited { get; set; } = 100;

    /// <summary>The longest session title, in characters once trimmed. Default 200.</summary>
    [Range(1, 10_000)]
    public int MaxTitleLength { get; set; } = 200;

    /// <summary>The longest annotation, in characters once trimmed. Default 500.</summary>
    [Range(1, 100_000)]
    public int MaxAnnotationLength { get; set; } = 500;

    /// <summary>
    /// Annotations one user (by the token's subject) may make in one session per <see cref="AnnotationRatePeriod"/>. Default 5. A token bucket:
    /// this many may come at once, then they are allowed again evenly over the period.
    /// </summary>
    [Range(1, 100_000)]
    public int AnnotationRateLimit { get; set; } = 5;

    /// <summary>The period of <see cref="AnnotationRateLimit"/>. Default one second.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan AnnotationRatePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most recent annotations kept per session for a joiner's snapshot. Default 200.</summary>
    [Range(0, 100_000)]
    public int RecentAnnotations { get; set; } = 200;

    /// <summary>
    /// Events buffered per joined stream, its snapshot included. Default 1,000. A stream whose buffer is full is ended
    /// with an error saying it fell behind (after what it had buffered), rather than silently losing events: the
    /// others never wait for it, and its client rejoins for a fresh snapshot.
    /// </summary>
    [Range(1, 1_000_000)]
    public int EventBufferCapacity { get; set; } = 1_000;

    /// <summary>
    /// How long a session may have no participant before it ends, as <c>EndSession</c> ends it (its owner's count of
    /// open sessions drops). A session is idle from its creation until someone joins, and again from the moment its
    /// last participant leaves. Default one hour; <see cref="TimeSpan.Zero"/> keeps idle sessions open; otherwise at
    /// least one second. Idle sessions are looked for every <see cref="IdleSweepInterval"/>, so one ends at most that
    /// much after its time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The shortest <see cref="IdleTimeout"/> other than zero.</summary>
    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often idle sessions are looked for: a quarter of <see cref="IdleTimeout"/>, at most a minute. Not a setting:
    /// the timeout is what an operator means, and a sweep costs one pass over the open sessions.
    /// </summary>
    public TimeSpan IdleSweepInterval => TimeSpan.FromTicks(Math.Min(IdleTimeout.Ticks / 4, TimeSpan.FromMinutes(1).Ticks));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IdleTimeout != TimeSpan.Zero && IdleTimeout < MinIdleTimeout)
        {
            yield return new ValidationResult(
                $"{nameof(IdleTimeout)} must be 00:00:00 (idle sessions stay open) or at least {MinIdleTimeout}; it was {IdleTimeout}.",
                [nameof(IdleTimeout)]);
        }
    }
}

[OptionsValidator]
internal sealed partial class LiveSessionOptionsValidator : IValidateOptions<LiveSessionOptions>;
