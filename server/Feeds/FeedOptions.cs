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

    /// <summary>Most readings in one <c>SubscribeBatches</c> item. Default 500.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>Readings read from history at a time during a replay. Default 256.</summary>
    [Range(1, 100_000)]
    public int ReplayPageSize { get; set; } = 256;

    /// <summary>How far ahead of the server's clock a published timestamp may be. Default one hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxTimestampSkew { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rejections listed in a <c>PublishResult</c>; all are counted. Default 20.</summary>
    [Range(0, 10_000)]
    public int MaxRejectionsReported { get; set; } = 20;
}

[OptionsValidator]
internal sealed partial class FeedOptionsValidator : IValidateOptions<FeedOptions>;
