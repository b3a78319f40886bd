namespace SensorHub.Tests.Infrastructure;

/// <summary>How a test client reaches the server.</summary>
public enum Transport
{
    /// <summary>WebSockets over the in-memory test server.</summary>
    TestServer,

    /// <summary>WebSockets over real Kestrel on 127.0.0.1.</summary>
    Kestrel,
}

/// <summary>The hub protocol a test client speaks.</summary>
public enum Protocol
{
    Json,
    MessagePack,
}

/// <summary>Every streaming test runs over both transports and both protocols.</summary>
public static class HubTargets
{
    public static TheoryData<Transport, Protocol> All => new()
    {
        { Transport.TestServer, Protocol.Json },
        { Transport.TestServer, Protocol.MessagePack },
        { Transport.Kestrel, Protocol.Json },
        { Transport.Kestrel, Protocol.MessagePack },
    };

    public static TheoryData<Protocol> Protocols => new() { Protocol.Json, Protocol.MessagePack };

    /// <summary>Every transport and protocol, with each of the two subscription methods.</summary>
    public static TheoryData<Transport, Protocol, string> AllWithSubscribeMethods
    {
        get
        {
            var data = new TheoryData<Transport, Protocol, string>();
            foreach (var transport in Enum.GetValues<Transport>())
            {
                foreach (var protocol in Enum.GetValues<Protocol>())
                {
                    data.Add(transport, protocol, SensorHub.Contracts.SensorHubMethods.Subscribe);
                    data.Add(transport, protocol, SensorHub.Contracts.SensorHubMethods.SubscribeBatches);
                }
            }
            return data;
        }
    }
}
