using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Server.Redis;

namespace SensorHub.Server.Mqtt;

/// <summary>
/// Takes readings from an MQTT broker (<see cref="MqttIngestOptions"/>) and publishes them through
/// <see cref="ReadingIngest"/>, the path of the hub's <c>Publish</c>: same checks, caps and counters. Off unless topics
/// are configured.
/// </summary>
/// <remarks>
/// <para>
/// Delivery: QoS 1 on a persistent session (a fixed client id, clean start off, a session expiry), so the broker keeps
/// what arrives while SensorHub is away. Each message is acknowledged by hand once its readings were handed to the
/// engine, published or rejected for good; a message in hand when the node stops or the connection drops is not
/// acknowledged, and the broker sends it again on the next connection (at least once: a reading may then be published
/// twice, as MQTT's QoS 1 allows).
/// </para>
/// <para>
/// MQTTnet hands messages to <see cref="OnMessageAsync"/> one at a time, in the order they arrived, on a task of its
/// own (not the socket's reader): a message that waits (the engine lost Redis) holds back the later ones, and the
/// broker stops sending once its in-flight window is full. That is the back-pressure; nothing is buffered here.
/// </para>
/// <para>
/// A new <see cref="IMqttClient"/> per connection, so that a late event of a connection that is gone can never be
/// taken for one of the current connection.
/// </para>
/// </remarks>
internal sealed class MqttIngestService(
    IOptions<MqttIngestOptions> options,
    ReadingIngest ingest,
    MqttIngestMetrics metrics,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<MqttIngestService> logger) : BackgroundService
{
    /// <summary>
    /// The publisher the ingest publishes as: one identity for the whole broker, so the sensors it creates count
    /// against <see cref="FeedOptions.MaxSensorsPerPublisher"/> together and are removed when idle as a device's are.
    /// No rate budget: a per-connection device budget would throttle a whole fleet, and a reading refused for its rate
    /// would be acknowledged and lost; MQTT's flow control and the engine's pace bound the rate instead.
    /// </summary>
    public const string PublisherId = "$mqtt";

    /// <summary>How long the engine is waited for, between attempts, when it is unavailable (Redis lost).</summary>
    private static readonly TimeSpan s_backendRetry = TimeSpan.FromSeconds(1);

    /// <summary>Larger messages are dropped by the broker for this client (MQTT 5's maximum packet size): 1 MiB.</summary>
    private const uint MaximumPacketSize = 1024 * 1024;

    private static readonly Publisher s_publisher = new(PublisherId, static _ => true);

    private readonly MqttIngestOptions _options = options.Value;
    private readonly MqttPayloadParser _parser = new(options.Value);
    private readonly InvalidMessageLog _invalidLog = new(options.Value.InvalidMessageLogInterval, time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            MqttIngestLog.Disabled(logger);
            return;
        }
        metrics.RecordZeros();
        if (string.IsNullOrEmpty(_options.SharedSubscriptionGroup) && configuration.UsesRedis())
            MqttIngestLog.NoSharedGroupOnRedis(logger);

        var factory = new MqttClientFactory();
        var clientOptions = ClientOptions();
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            using var client = factory.CreateMqttClient();
            var lost = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            client.ApplicationMessageReceivedAsync += e => OnMessageAsync(e, client, stoppingToken);
            client.DisconnectedAsync += e =>
            {
                metrics.Connected = false;
                lost.TrySetResult(e);
                return Task.CompletedTask;
            };

            var wasConnected = false;
            string reason;
            try
            {
                MqttIngestLog.Connecting(logger, _options.Host!, _options.Port, _options.ClientId, _options.UseTls);
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                connectTimeout.CancelAfter(clientOptions.Timeout);
                var result = await client.ConnectAsync(clientOptions, connectTimeout.Token);
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    reason = $"the broker refused: {result.ResultCode} {result.ReasonString}".TrimEnd();
                }
                else
                {
                    wasConnected = true;
                    attempt = 0;
                    MqttIngestLog.Connected(logger, _options.Host!, _options.Port, _options.ClientId, result.IsSessionPresent);
                    if (!string.IsNullOrEmpty(_options.SharedSubscriptionGroup) && !result.SharedSubscriptionAvailable)
                        MqttIngestLog.SharedSubscriptionsUnavailable(logger, _options.Host!, _options.Port, _options.SharedSubscriptionGroup);
                    await SubscribeAsync(factory, client, stoppingToken);
                    // Connected means subscribed too: what is published to the topics from now on reaches this node.
                    metrics.Connected = client.IsConnected;
                    var disconnected = await lost.Task.WaitAsync(stoppingToken);
                    reason = Describe(disconnected);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                await DisconnectAsync(client);
                break;
            }
            catch (Exception e)
            {
                reason = (e.InnerException ?? e).Message;
                // A failure after the connection was made (a subscribe that timed out) leaves it open: close it, or it
                // would take messages that nobody reads.
                if (client.IsConnected)
                    await DisconnectAsync(client);
            }
            metrics.Connected = false;

            var delay = Backoff(attempt++);
            if (wasConnected)
                MqttIngestLog.ConnectionLost(logger, _options.Host!, _options.Port, reason, delay);
            else
                MqttIngestLog.ConnectFailed(logger, _options.Host!, _options.Port, reason, delay);
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        metrics.Connected = false;
    }

    /// <summary>
    /// One message: parsed, published, acknowledged. Invalid ones are counted, logged at a bounded rate and
    /// acknowledged (skipped for good). Not acknowledged when the node stops or the connection is gone before its
    /// readings reached the engine: the broker keeps it and sends it again on the next connection.
    /// </summary>
    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e, IMqttClient client, CancellationToken stoppingToken)
    {
        e.AutoAcknowledge = false;
        // MQTTnet goes on handing over what it had received while the node stops: none of it is taken, all stays with the broker.
        if (stoppingToken.IsCancellationRequested)
            return;
        var message = e.ApplicationMessage;
        try
        {
            if (!await TakeInAsync(message.Topic, message.Payload, client, stoppingToken))
                return;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            // A bug, not a bad message: counted and skipped, so that one message can never stall the flow (unacknowledged,
            // it would take a place in the broker's in-flight window until the next connection, and fail again then).
            MqttIngestLog.MessageFailed(logger, exception, message.Topic);
            metrics.Count(MqttOutcome.Failed);
        }
        try
        {
            await e.AcknowledgeAsync(stoppingToken);
        }
        catch (Exception) when (!client.IsConnected || stoppingToken.IsCancellationRequested)
        {
            // The connection went first: the broker sends the message again on the next one.
        }
    }

    /// <summary>
    /// Hands the readings of one message to the engine, waiting while it is unavailable.
    /// </summary>
    /// <returns>Whether the message is done with (published, rejected or invalid); <see langword="false"/> when the connection went first.</returns>
    private async Task<bool> TakeInAsync(string topic, System.Buffers.ReadOnlySequence<byte> payload, IMqttClient client, CancellationToken cancellationToken)
    {
        var parsed = _parser.Parse(topic, payload, time.GetUtcNow().UtcDateTime);
        if (!parsed.IsValid)
        {
            Skipped(topic, parsed.Outcome!, parsed.Outcome!, parsed.Problem!);
            return true;
        }
        var warned = false;
        while (true)
        {
            try
            {
                var rejection = await PublishAsync(parsed.Readings, cancellationToken);
                if (rejection is { } refused)
                    Skipped(topic, MqttOutcome.Rejected, $"{MqttOutcome.Rejected} ({refused.Code})", refused.Reason, refused.Code);
                else
                    metrics.Count(MqttOutcome.Published);
                return true;
            }
            catch (SensorHubException e) when (e.Code == SensorHubErrors.BackendUnavailable)
            {
                // Not acknowledged until the engine took it: the message waits here, and the broker holds the ones behind it.
                if (!warned)
                    MqttIngestLog.BackendUnavailable(logger, topic, e.Message);
                warned = true;
                await Task.Delay(s_backendRetry, time, cancellationToken);
                if (!client.IsConnected)
                    return false;
            }
        }
    }

    /// <summary>Publishes a message's readings: one alone, several (SenML) as one batch; the first rejection, if any.</summary>
    private async Task<ItemRejection?> PublishAsync(ReadingInput[] readings, CancellationToken cancellationToken)
    {
        if (readings.Length == 1)
            return await ingest.PublishOneAsync(readings[0], s_publisher, cancellationToken);
        var result = await ingest.PublishBatchesAsync(OneBatch(readings), s_publisher, cancellationToken);
        if (result.Rejected == 0)
            return null;
        var first = result.Rejections.FirstOrDefault();
        return new ItemRejection(first?.Code ?? SensorHubErrors.InvalidArgument,
            $"{result.Rejected} of {readings.Length} readings were rejected; the first: {first?.Reason}");
    }

    private static async IAsyncEnumerable<ReadingInput?[]?> OneBatch(ReadingInput[] readings)
    {
        await Task.CompletedTask;
        yield return readings;
    }

    private void Skipped(string topic, string outcome, string logKey, string problem, string? errorType = null)
    {
        metrics.Count(outcome, errorType);
        if (_invalidLog.ShouldLog(logKey, out var skipped))
            MqttIngestLog.InvalidMessage(logger, topic, logKey, problem, skipped);
    }

    private async Task SubscribeAsync(MqttClientFactory factory, IMqttClient client, CancellationToken cancellationToken)
    {
        var subscribe = factory.CreateSubscribeOptionsBuilder();
        foreach (var filter in _options.Topics)
        {
            // Retained messages are old values (a bare number would take the time it arrived): only new ones are taken.
            subscribe.WithTopicFilter(f => f
                .WithTopic(SubscriptionOf(filter))
                .WithAtLeastOnceQoS()
                .WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe));
        }
        var result = await client.SubscribeAsync(subscribe.Build(), cancellationToken);
        foreach (var item in result.Items)
        {
            if (item.ResultCode is MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS2)
                MqttIngestLog.Subscribed(logger, item.TopicFilter.Topic);
            else
                MqttIngestLog.SubscriptionRefused(logger, item.TopicFilter.Topic, item.ResultCode.ToString());
        }
    }

    /// <summary>The filter as subscribed: <c>$share/&lt;group&gt;/&lt;filter&gt;</c> with a group, else the filter.</summary>
    internal string SubscriptionOf(string filter) =>
        string.IsNullOrEmpty(_options.SharedSubscriptionGroup) ? filter : $"$share/{_options.SharedSubscriptionGroup}/{filter}";

    /// <summary>
    /// Closes the connection with a normal DISCONNECT: the session stays with the broker for its expiry, with the
    /// messages not acknowledged.
    /// </summary>
    private async Task DisconnectAsync(IMqttClient client)
    {
        if (!client.IsConnected)
            return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), timeout.Token);
            MqttIngestLog.Disconnected(logger, _options.Host!, _options.Port, _options.SessionExpiry);
        }
        catch (Exception)
        {
            // The connection was going anyway: the session is the broker's either way.
        }
    }

    private MqttClientOptions ClientOptions()
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Host, _options.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(_options.ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)Math.Min(_options.SessionExpiry.TotalSeconds, uint.MaxValue - 1))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithMaximumPacketSize(MaximumPacketSize);
        if (_options.Username is { } username)
            builder.WithCredentials(username, _options.Password);
        if (_options.UseTls)
        {
            var authority = _options.CaCertificatePath is { } path ? X509CertificateLoader.LoadCertificateFromFile(path) : null;
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(_options.Host);
                if (authority is not null)
                    tls.WithCertificateValidationHandler(args => TrustedBy(authority, args.Certificate, args.SslPolicyErrors));
            });
        }
        return builder.Build();
    }

    /// <summary>
    /// With a private CA: the broker's certificate must name the host and chain to <paramref name="authority"/>
    /// (and nothing else is trusted in its place).
    /// </summary>
    private static bool TrustedBy(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/> (0 first): <see cref="MqttIngestOptions.ReconnectMinDelay"/>
    /// doubled per attempt up to <see cref="MqttIngestOptions.ReconnectMaxDelay"/>, then drawn between half of it and all of it.
    /// </summary>
    internal TimeSpan Backoff(int attempt)
    {
        var ceiling = _options.ReconnectMinDelay.Ticks * Math.Pow(2, Math.Min(attempt, 30));
        var bounded = Math.Min(ceiling, _options.ReconnectMaxDelay.Ticks);
        return TimeSpan.FromTicks((long)(bounded / 2 + Random.Shared.NextDouble() * bounded / 2));
    }

    private static string Describe(MqttClientDisconnectedEventArgs e) =>
        e.Exception is { } exception ? $"{e.Reason}: {(exception.InnerException ?? exception).Message}" : e.Reason.ToString();
}

/// <summary>
/// At most one log entry per reason per interval, saying how many were skipped since the last one: a device that sends
/// garbage a thousand times a second costs a counter add per message, not a log line.
/// </summary>
internal sealed class InvalidMessageLog(TimeSpan interval, TimeProvider time)
{
    private readonly Dictionary<string, (long LastLogged, long Skipped)> _reasons = new(StringComparer.Ordinal);

    public bool ShouldLog(string reason, out long skipped)
    {
        var now = time.GetTimestamp();
        lock (_reasons)
        {
            if (_reasons.TryGetValue(reason, out var state) && time.GetElapsedTime(state.LastLogged, now) < interval)
            {
                _reasons[reason] = (state.LastLogged, state.Skipped + 1);
                skipped = 0;
                return false;
            }
            skipped = state.Skipped;
            _reasons[reason] = (now, 0);
            return true;
        }
    }
}
