using System.Diagnostics;
using SensorHub.Server.Telemetry;

namespace SensorHub.Server.Hubs;

/// <summary>
/// The outcome of a hub call on SignalR's activity for it (source <see cref="SensorHubTelemetry.SignalRActivitySourceName"/>):
/// a refused call gets SensorHub's error code as <see cref="SensorHubTelemetry.ErrorType"/> and status Error.
/// </summary>
/// <remarks>
/// SignalR catches the <c>HubException</c> a refusal becomes and sets <c>error.type</c> to that exception's type name
/// (<c>DefaultHubDispatcher.SetActivityError</c>, ASP.NET Core 10) after every filter has ended, overwriting the code.
/// So the code is also kept as a custom property of the activity, and a listener put back at the activity's stop,
/// before the exporters' listeners (which register when the host starts) read its tags. A call that failed for
/// another reason keeps SignalR's exception type, as OpenTelemetry's conventions have it.
/// </remarks>
internal static class HubInvocationOutcome
{
    private const string CodeProperty = "sensorhub.refusal.code";
    private static ActivityListener? s_listener;

    /// <summary>
    /// Listens for SignalR's invocation activities' stop, once per process. Called when the services are registered,
    /// so that it comes before the OpenTelemetry exporter's listener. It samples nothing: it never makes an activity
    /// be created that no one else wants.
    /// </summary>
    public static void Listen()
    {
        if (Volatile.Read(ref s_listener) is not null)
            return;
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SensorHubTelemetry.SignalRActivitySourceName,
            ActivityStopped = activity =>
            {
                if (activity.GetCustomProperty(CodeProperty) is string code)
                    activity.SetTag(SensorHubTelemetry.ErrorType, code);
            },
        };
        if (Interlocked.CompareExchange(ref s_listener, listener, null) is null)
            ActivitySource.AddActivityListener(listener);
        else
            listener.Dispose();
    }

    /// <summary>SignalR's activity of the call running in this flow (a hub filter's), or <see langword="null"/> when none is recorded.</summary>
    public static Activity? Current => Invocation(Activity.Current);

    /// <summary><paramref name="activity"/> if it is SignalR's activity of a hub call.</summary>
    public static Activity? Invocation(Activity? activity) =>
        activity is { Source.Name: SensorHubTelemetry.SignalRActivitySourceName } ? activity : null;

    /// <summary>Marks the call as refused with <paramref name="code"/> (a <see cref="Contracts.SensorHubErrors"/> code).</summary>
    public static void Refused(Activity? invocation, string code)
    {
        if (Invocation(invocation) is not { } activity)
            return;
        activity.SetCustomProperty(CodeProperty, code);
        activity.SetTag(SensorHubTelemetry.ErrorType, code);
        activity.SetStatus(ActivityStatusCode.Error);
    }
}
