using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SensorHub.Tests.Infrastructure;

/// <summary>One log entry of the upload machinery.</summary>
public sealed record UploadLogEntry(int EventId, LogLevel Level, string Message, Exception? Exception);

/// <summary>
/// Keeps what the upload machinery (<c>SensorHub.Server.Uploads</c>) logs, at every level, for tests that check
/// that a failure was logged rather than thrown. <see cref="AddTo"/> registers it in a server's services.
/// </summary>
public sealed class UploadLogCollector : ILoggerProvider
{
    private const string Category = "SensorHub.Server.Uploads";
    private readonly ConcurrentQueue<UploadLogEntry> _entries = new();

    public IReadOnlyList<UploadLogEntry> Entries => [.. _entries];

    /// <summary>The entries of one event id (see <c>UploadsLog</c>).</summary>
    public IReadOnlyList<UploadLogEntry> WithId(int eventId) => [.. _entries.Where(e => e.EventId == eventId)];

    /// <summary>Registers the collector, and lets everything it wants through the test server's Warning level.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(options => options.AddFilter<UploadLogCollector>(null, LogLevel.Trace));
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(Category, StringComparison.Ordinal) ? new Collecting(_entries) : NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Collecting(ConcurrentQueue<UploadLogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new UploadLogEntry(eventId.Id, logLevel, formatter(state, exception), exception));
    }
}
