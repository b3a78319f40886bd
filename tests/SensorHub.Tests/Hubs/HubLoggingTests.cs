using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Hubs;

/// <summary>
/// A refusal is the client's mistake, not the server's: it is not logged as an error (SignalR's dispatcher would log
/// each with its stack trace, so any client could flood the log), and the connection goes on.
/// </summary>
public sealed class HubLoggingTests
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task RefusalsAreNotLoggedAsErrors(Protocol protocol)
    {
        var logs = new Collector();
        // Registered like any provider, under the app's own filter rules: it sees what the console would.
        await using var app = new SensorHubApplication { TestServices = services => services.AddSingleton<ILoggerProvider>(logs) };
        await using var connection = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);

        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<HubException>(() => connection.Hub.ReadReadingsAsync(Sensors.NewId("nobody"), null, 1, cts.Token));
            await Assert.ThrowsAsync<HubException>(() => connection.Hub.GetUploadStatusAsync("not an id"));
        }

        Assert.Equal(10, (await app.GetStatsAsync()).Refusals.Values.Sum());
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
    }

    private sealed class Collector : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

        public IReadOnlyList<(string Category, LogLevel Level, string Message)> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
