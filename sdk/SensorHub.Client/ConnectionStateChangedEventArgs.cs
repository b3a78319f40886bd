namespace SensorHub.Client;

/// <summary>What happened to a <see cref="SensorHubClient"/>'s connection.</summary>
public enum ConnectionChange
{
    /// <summary><see cref="SensorHubClient.StartAsync"/> connected.</summary>
    Connected,

    /// <summary>The connection dropped; the client is reconnecting. Subscriptions and joins wait, then resume.</summary>
    Reconnecting,

    /// <summary>The client reconnected; subscriptions, joins, uploads and downloads resume.</summary>
    Reconnected,

    /// <summary>The connection closed for good: disposed, stopped, or the reconnect policy gave up.</summary>
    Disconnected,
}

/// <summary>The argument of <see cref="SensorHubClient.ConnectionStateChanged"/>.</summary>
public sealed class ConnectionStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event's argument.</summary>
    /// <param name="change">What happened.</param>
    /// <param name="error">The error that caused it, if any.</param>
    /// <param name="connectionId">The new connection's id, after <see cref="ConnectionChange.Connected"/> or <see cref="ConnectionChange.Reconnected"/>.</param>
    public ConnectionStateChangedEventArgs(ConnectionChange change, Exception? error, string? connectionId)
    {
        Change = change;
        Error = error;
        ConnectionId = connectionId;
    }

    /// <summary>What happened.</summary>
    public ConnectionChange Change { get; }

    /// <summary>The error that dropped or closed the connection; <see langword="null"/> when there was none.</summary>
    public Exception? Error { get; }

    /// <summary>The connection's id, where SignalR gives one.</summary>
    public string? ConnectionId { get; }
}
