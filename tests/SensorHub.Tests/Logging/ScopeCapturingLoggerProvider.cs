using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Logging;

/// <summary>One log entry with its own fields (<see cref="State"/>) and those of every scope it was written in.</summary>
public sealed record CapturedLog(
    string Category, int EventId, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> State, IReadOnlyDictionary<string, object?> Scope);

/// <summary>
/// Keeps what SensorHub's own categories log, at every level, with the fields of the scopes it was written in, as a
/// structured log sink (the JSON console formatter, an OpenTelemetry exporter) would see them. <see cref="AddTo"/>
/// registers it in a server's services.
/// </summary>
public sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private const string Categories = "SensorHub";
    private readonly ConcurrentQueue<CapturedLog> _logs = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Logs => [.. _logs];

    /// <summary>Registers the provider, and lets everything SensorHub logs through the test server's Warning level.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(options => options.AddFilter<ScopeCapturingLoggerProvider>(Categories, LogLevel.Trace));
    }

    /// <summary>The first entry that matches, once it has been written.</summary>
    public async Task<CapturedLog> WaitForAsync(Func<CapturedLog, bool> match, string what)
    {
        CapturedLog? found = null;
        await Timeouts.WaitUntilAsync(() => (found = _logs.FirstOrDefault(match)) is not null, Timeouts.Default, what);
        return found!;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ScopeCapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith(Categories, StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            var scope = new Dictionary<string, object?>();
            provider._scopes.ForEachScope(static (value, fields) => AddFields(value, fields), scope);
            var fields = new Dictionary<string, object?>();
            AddFields(state, fields);
            provider._logs.Enqueue(new CapturedLog(category, eventId.Id, logLevel, formatter(state, exception), fields, scope));
        }

        private static void AddFields(object? value, Dictionary<string, object?> fields)
        {
            if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, field) in pairs)
                    fields[key] = field;
            }
        }
    }
}
