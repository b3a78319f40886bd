using SensorHub.Contracts;

namespace SensorHub.Server.Shutdown;

/// <summary>
/// In front of the hub: once the server has begun to stop, every new hub request (negotiate, WebSocket, any
/// transport) is answered 503 at once, before authentication, and its keep-alive connection is closed, so that a
/// reconnecting client does not get back in and is sent on, through the load balancer, to another node.
/// </summary>
internal sealed class StoppingGateMiddleware(RequestDelegate next, ShutdownSignal signal, ILogger<StoppingGateMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!signal.IsStopping || !context.Request.Path.StartsWithSegments(SensorHubRoutes.Hub))
            return next(context);

        ShutdownLog.Refused(logger, context.Request.Method, context.Request.Path);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.Connection = "close";
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("The server is stopping: connect again.", context.RequestAborted);
    }
}
