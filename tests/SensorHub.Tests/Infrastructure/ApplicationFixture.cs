namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// One server per transport, shared by the tests of a class. Tests use sensors of their own, so they do not see
/// each other's readings; xunit runs the tests of one class one after another, so counters a test checks are its own.
/// </summary>
public sealed class ApplicationFixture : IAsyncLifetime
{
    private readonly Dictionary<Transport, SensorHubApplication> _apps = [];

    public SensorHubApplication this[Transport transport]
    {
        get
        {
            lock (_apps)
            {
                if (!_apps.TryGetValue(transport, out var app))
                    _apps[transport] = app = new SensorHubApplication(transport);
                return app;
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in _apps.Values)
            await app.DisposeAsync();
    }
}
