using Microsoft.AspNetCore.SignalR;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Identity;
using SensorHub.Server.Sessions;
using SensorHub.Server.Uploads;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The hub at <see cref="SensorHubRoutes.Hub"/>, one partial file per feature. Thin on purpose: it checks arguments
/// and hands over to the feature services. Around every call stand filters, each the one home of its concern:
/// <see cref="HubDiagnosticsFilter"/> (the call's trace tags and log fields), <see cref="HubErrorFilter"/> (caller
/// errors become <see cref="HubException"/>s), <see cref="HubAuthorizationFilter"/> (roles) and
/// <see cref="ConnectionLimitsFilter"/> (per-connection limits and counts).
/// </summary>
internal sealed partial class SensorsHub(
    SessionService sessions,
    FeedStreams feeds,
    ReadingIngest ingest,
    IFeedEngine engine,
    UploadService uploads) : Hub
{
    /// <summary>Who is calling.</summary>
    private SensorHubUser Caller => HubCaller.Of(Context);
}
