using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The hub at <see cref="SensorHubRoutes.Hub"/>, one partial file per feature. Thin on purpose: it checks arguments
/// and hands over to the feature services. Stream limits, stream counting and the mapping of caller errors to
/// <see cref="HubException"/> live in <see cref="StreamTrackingFilter"/>.
/// </summary>
internal sealed partial class SensorsHub(
    SessionService sessions,
    FeedStreams feeds,
    ReadingIngest ingest,
    IFeedEngine engine,
    UploadService uploads,
    IOptions<UploadOptions> uploadOptions) : Hub
{
    /// <summary>Who is calling.</summary>
    private SensorHubUser Caller => SensorHubUser.From(Context.User);
}
