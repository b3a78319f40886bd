using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Shutdown;

/// <summary>Tells the drain about every hub connection that opens, including those that slip in while it runs.</summary>
internal sealed class ShutdownHubFilter(HubDrain drain) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        await next(context);
        drain.Opened(context.Context);
    }
}
