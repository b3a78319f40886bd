using Microsoft.AspNetCore.Http.Features;
using SensorHub.Contracts;

namespace SensorHub.Server.Shutdown;

/// <summary>
/// In front of the hub: once the server has begun to stop, every hub request that would open a connection (negotiate,
/// a WebSocket, a server-sent-events stream) is answered 503 at once, before authentication, and its keep-alive
/// connection is closed, so that a reconnecting client does not get back in and goes, through the load balancer, to
/// another node. The requests of connections already open (long polling's polls and sends) pass: they carry the
/// completions of the streams the drain is waiting for.
/// </summary>
internal sealed class StoppingGateMiddleware(RequestDelegate next, ShutdownSignal signal, ILogger<StoppingGateMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!signal.IsStopping || !context.Request.Path.StartsWithSegments(SensorHubRoutes.Hub, out var rest) || !OpensConnection(context, rest))
            return next(context);

        ShutdownLog.Refused(logger, context.Request.Method, context.Request.Path);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.Connection = "close";
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("The server is stopping: connect again.", context.RequestAborted);
    }

    private static bool OpensConnection(HttpContext context, PathString rest) =>
        rest.Equals("/negotiate", StringComparison.OrdinalIgnoreCase)
        || context.Features.Get<IHttpWebSocketFeature>()?.IsWebSocketRequest == true
        || context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
        || HttpMethods.IsConnect(context.Request.Method)
        || context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
