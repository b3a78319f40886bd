using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Sessions;

/// <summary>
/// An <see cref="EngineFixture"/> whose nodes get session settings of a test class's own (limits, say), as an
/// operator would set them, on every engine target.
/// </summary>
public abstract class SessionEngines : IAsyncLifetime, IDisposable
{
    private readonly EngineFixture _engines = new();

    protected SessionEngines(IDictionary<string, string?> settings)
    {
        foreach (var (key, value) in settings)
            _engines.Settings[key] = value;
    }

    public Task<EngineNodes> NodesAsync(EngineTarget target) => _engines.NodesAsync(target);

    public Task InitializeAsync() => _engines.InitializeAsync();

    public Task DisposeAsync() => _engines.DisposeAsync();

    public void Dispose()
    {
        _engines.Dispose();
        GC.SuppressFinalize(this);
    }
}
