using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using SensorHub.Contracts;

namespace SensorHub.Client;

/// <summary>The hub protocol a <see cref="SensorHubClient"/> speaks.</summary>
public enum SensorHubProtocol
{
    /// <summary>SignalR's JSON hub protocol: readable on the wire; binary chunks travel as base64.</summary>
    Json,

    /// <summary>SignalR's MessagePack hub protocol: compact, binary chunks travel as they are. The default.</summary>
    MessagePack,
}

/// <summary>How a <see cref="SensorHubClient"/> connects. Read once, when the client is built.</summary>
public sealed class SensorHubClientOptions
{
    /// <summary>
    /// The server's base address, such as <c>http://localhost:5000</c>. Required. The hub's path
    /// (<see cref="SensorHubRoutes.Hub"/>) is appended to it, so a base address with a path prefix (a reverse proxy's) works.
    /// </summary>
    public Uri? Url { get; set; }

    /// <summary>
    /// Several servers (the nodes of one cluster, each a base address as <see cref="Url"/>) to fail over between:
    /// <see cref="Url"/>, when set, comes first, then these in order. The client connects to one at a time. When a
    /// connection to one cannot be made or remade, the next attempt goes to the next (after the last, the first again),
    /// at the pace of <see cref="ReconnectDelays"/>; <see cref="SensorHubClient.StartAsync"/> tries each once. A server
    /// that answers <c>backend_unavailable</c> (its Redis is gone) is left for the next one at once. Subscriptions,
    /// joins and transfers resume on whichever server the client reaches, from where they stood: on servers that share
    /// one Redis, a subscription goes on with no gap and no duplicate. Default empty: <see cref="Url"/> alone.
    /// </summary>
    /// <remarks>
    /// Any node can take any connection because the client connects over WebSockets without negotiation (see
    /// <see cref="ConfigureHttpConnection"/>); the nodes must accept the same tokens (a shared signing key).
    /// </remarks>
    public IReadOnlyList<Uri> ServerUrls { get; set; } = [];

    /// <summary>The hub protocol. Default <see cref="SensorHubProtocol.MessagePack"/>.</summary>
    public SensorHubProtocol Protocol { get; set; } = SensorHubProtocol.MessagePack;

    /// <summary>
    /// Gives the bearer token for each connection attempt: the start and every reconnection (SignalR asks again each
    /// time, each attempt being a new HTTP connection), so it can hand out a fresh token. The server closes a
    /// connection once its token expires, allowing a reconnect: the client then reconnects with the provider's next
    /// token and its subscriptions, joins and transfers resume. A provider that hands out a token that is already
    /// expired gets 401 for that attempt; the client tries again after the next reconnect delay, and goes on doing so
    /// for as long as <see cref="ReconnectDelays"/> (for ever) or <see cref="ReconnectPolicy"/> allow. At
    /// <see cref="SensorHubClient.StartAsync"/> such a token fails the start. Default <see langword="null"/>: no token,
    /// which the server accepts only where anonymous access is on.
    /// </summary>
    public Func<Task<string?>>? AccessTokenProvider { get; set; }

    /// <summary>
    /// The waits between reconnection attempts after a dropped connection; the last one repeats for as long as the
    /// client lives. Default 0, 0.5, 1, 2 and 5 seconds (then 5 seconds forever). Ignored when
    /// <see cref="ReconnectPolicy"/> is set.
    /// </summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; set; } =
        [TimeSpan.Zero, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    /// <summary>
    /// A SignalR reconnect policy that replaces <see cref="ReconnectDelays"/>. Default <see langword="null"/>. A policy that
    /// returns <see langword="null"/> gives up: the client is then <see cref="ConnectionChange.Disconnected"/>, and every
    /// subscription, join, upload and download in progress fails.
    /// </summary>
    public IRetryPolicy? ReconnectPolicy { get; set; }

    /// <summary>The default <see cref="UnknownSensorPatience"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultUnknownSensorPatience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a subscription that is resuming keeps asking for a sensor the server answers <c>unknown_sensor</c> for:
    /// after a server restart the sensor is unknown until its device publishes again. The refusals are retried at the
    /// pace of <see cref="ReconnectDelays"/> (or <see cref="ReconnectPolicy"/>); once they have lasted longer than this,
    /// the subscription ends with a <see cref="SensorHubServerException"/> whose <see cref="SensorHubServerException.ErrorCode"/>
    /// is <c>unknown_sensor</c>. The span starts at the first refusal after each reconnection. A subscription's first
    /// attempt is never retried: subscribing to a sensor no one has published to fails at once. Default 30 seconds
    /// (<see cref="DefaultUnknownSensorPatience"/>); <see cref="TimeSpan.Zero"/> fails at once also while resuming;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    public TimeSpan UnknownSensorPatience { get; set; } = DefaultUnknownSensorPatience;

    /// <summary>Where the client and SignalR log. Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Advanced: adjusts SignalR's connection options after the client has set the URL, the token provider and the
    /// transport, for each connection attempt (each may go to another server; <see cref="HttpConnectionOptions.Url"/>
    /// names it). The client connects over WebSockets without negotiation
    /// (<see cref="HttpConnectionOptions.Transports"/> <c>WebSockets</c>, <see cref="HttpConnectionOptions.SkipNegotiation"/>
    /// <see langword="true"/>), so that any node of a cluster can take any connection; a client that needs another
    /// transport sets <c>Transports</c> and <c>SkipNegotiation = false</c> here, and then needs sticky sessions in
    /// front of a cluster. Also for an <see cref="HttpConnectionOptions.HttpMessageHandlerFactory"/> or a
    /// <see cref="HttpConnectionOptions.WebSocketFactory"/> (proxies, certificates, tests). A custom
    /// <c>WebSocketFactory</c> must send the token itself (<c>context.Options.AccessTokenProvider</c>). Default <see langword="null"/>.
    /// </summary>
    public Action<HttpConnectionOptions>? ConfigureHttpConnection { get; set; }

    /// <summary>The clock that patience is measured by and retries wait on. Default <see cref="TimeProvider.System"/>; tests move it.</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
