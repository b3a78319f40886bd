using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace SensorHub.Server.HubProtocols;

/// <summary>Registers the hub protocols' wrapper.</summary>
internal static class HubProtocolsBuilderExtensions
{
    /// <summary>
    /// Wraps every hub protocol registered so far in a <see cref="SkippingHubProtocol"/>, so that a message of an
    /// unknown type is skipped as the protocols mean it to be, instead of stopping its connection. Call it after the
    /// last <c>Add…Protocol()</c>.
    /// </summary>
    public static ISignalRServerBuilder SkipUnknownHubMessages(this ISignalRServerBuilder builder)
    {
        var services = builder.Services;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType != typeof(IHubProtocol) || services[i].ImplementationType is not { } protocol)
                continue;
            services[i] = ServiceDescriptor.Singleton<IHubProtocol>(
                provider => new SkippingHubProtocol((IHubProtocol)ActivatorUtilities.CreateInstance(provider, protocol)));
        }
        return builder;
    }
}
