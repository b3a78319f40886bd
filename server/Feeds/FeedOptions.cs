using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Feeds;

/// <summary>Settings of the feed engine and its streams, bound from <c>SensorHub:Feeds</c>.</summary>
public sealed class FeedOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Feeds";

    /// <summary>Newest readings kept per sensor for replay. Default 10,000.</summary>
    [Range(1, 10_000_000)]
    public int HistoryCapacity { get; set; } = 10_000;

    /// <summary>
    /// Live readings buffered per subscriber. Default 1,000. When a slow subscriber's buffer is full its oldest
    /// unsent reading is dropped and counted: the publisher never waits for a subscriber.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SubscriberBufferCapacity { get; set; } = 1_000;

    /// <summary>
    /// Live readings buffered for one <c>SubscribeMany</c> stream, whatever the number of its sensors. Default 10,000.
    /// When a slow consumer's buffer is full the oldest reading in it is dropped (the oldest of its own sensor), and
    /// counted: that sensor's sequence jumps.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SubscribeManyBufferCapacity { get; set; } = 10_000;

    /// <summary>Most readings in one <c>SubscribeBatches</c> item. Default 500.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>
    /// Most readings in one <c>PublishBatches</c> item. Default 1,000, which already spreads a message's cost over many
    /// readings. A larger batch is rejected whole without reading it: one <c>invalid_argument</c> rejection at its first
    /// reading's position, every reading in it counted as rejected. The bound is on what a connection can make the
    /// server hold: SignalR buffers up to 10 items per stream while ingest works through the one before, and a message
    /// of a few bytes per reading (nulls, empty objects) deserializes to some 50 bytes per reading.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxPublishBatchSize { get; set; } = 1_000;

    /// <summary>Readings read from history at a time during a replay. Default 256.</summary>
    [Range(1, 100_000)]
    public int ReplayPageSize { get; set; } = 256;

    /// <summary>How far ahead of the server's clock a published timestamp may be. Default one hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxTimestampSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rejections listed in a <c>PublishResult</c>; all are counted. Default 20.</summary>
    [Range(0, 10_000)]
    public int MaxRejectionsReported { get; set; } = 20;

    /// <summary>
    /// Sensors the server holds in all, its own included. Default 10,000. An item for a new sensor past it is
    /// rejected alone with <c>too_many_sensors</c>; known sensors go on. The server's configured sensors (the
    /// simulated ones) are never refused, but count: more of them than this stops the start.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxSensors { get; set; } = 10_000;

    /// <summary>
    /// Sensors one publisher (a token's subject) may have registered and not yet lost to <see cref="SensorIdleTimeout"/>.
    /// Default 1,000. An item for a new sensor past it is rejected alone with <c>too_many_sensors</c>.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxSensorsPerPublisher { get; set; } = 1_000;

    /// <summary>
    /// How long a sensor that a publisher registered may go without a reading and without a subscriber before it is
    /// removed with its history. Default 7 days; <c>00:00:00</c> keeps every sensor. The server's own sensors are kept.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan SensorIdleTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often idle sensors are looked for. Default one hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan IdleSweepInterval { get; set; } = TimeSpan.FromHours(1);
}

[OptionsValidator]
internal sealed partial class FeedOptionsValidator : IValidateOptions<FeedOptions>;
