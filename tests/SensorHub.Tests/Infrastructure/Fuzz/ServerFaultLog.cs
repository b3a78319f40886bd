using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SensorHub.Tests.Infrastructure.Fuzz;

/// <summary>One log entry the fuzz looks at.</summary>
internal sealed record ServerLogEntry(string Category, LogLevel Level, string EventName, string Message, Exception? Exception)
{
    public override string ToString() =>
        $"{Level} {Category}[{EventName}]: {Message}{(Exception is null ? "" : $"\n{Exception}")}";
}

/// <summary>
/// The server's log as the fuzz reads it, for the faults a client cannot see: SignalR answers every exception that is
/// no <see cref="HubException"/> with the same generic sentence, so an argument that crashes a hub method
/// (a <see cref="NullReferenceException"/>, say) looks to the client exactly like a documented failure. It keeps the
/// server's warnings and errors, and SignalR's debug entries for a failed invocation or stream, which carry the
/// exception behind the generic sentence.
/// </summary>
internal sealed class ServerFaultLog : ILoggerProvider
{
    private const string SignalRCategory = "Microsoft.AspNetCore.SignalR";

    /// <summary>SignalR's entries, at debug level, for an invocation or a stream that ended with an exception.</summary>
    private static readonly HashSet<string> s_failureEvents = new(StringComparer.Ordinal) { "FailedInvokingHubMethod", "FailedStreaming" };

    private readonly ConcurrentQueue<ServerLogEntry> _entries = new();

    /// <summary>Registers the log with the app: its own level rules, which leave every other logger's alone.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(options =>
        {
            // Rules for this provider alone win over the app's (which keep the console quiet under the fuzz).
            options.Rules.Add(new LoggerFilterRule(typeof(ServerFaultLog).FullName, null, LogLevel.Warning, null));
            options.Rules.Add(new LoggerFilterRule(typeof(ServerFaultLog).FullName, SignalRCategory, LogLevel.Debug, null));
        });
    }

    /// <summary>Everything logged since the last call.</summary>
    public List<ServerLogEntry> Drain()
    {
        var drained = new List<ServerLogEntry>();
        while (_entries.TryDequeue(out var entry))
            drained.Add(entry);
        return drained;
    }

    /// <summary>Why <paramref name="entry"/> shows a fault of the server's, or <see langword="null"/> when it is what a hostile client causes.</summary>
    public static string? Fault(ServerLogEntry entry)
    {
        if (s_failureEvents.Contains(entry.EventName))
        {
            return entry.Exception switch
            {
                // A refusal of the server's, mapped with its code (ErrorClarity checks the code); or SignalR's own, with
                // which it ends a client-to-server stream whose item cannot be deserialized or that the client
                // completed with an error, so that the method reading the stream fails with it.
                HubException => null,
                // The connection went away under a running call or stream.
                OperationCanceledException => null,
                { } e => $"a hub call failed with {e.GetType().Name}, which the client sees only as SignalR's generic error",
                null => null,
            };
        }
        if (entry.Level < LogLevel.Error)
            return null;
        // SignalR's parser meeting bytes that are no message closes that connection with "Connection closed with an
        // error."; a fault only when the server's own code is on the way.
        if (entry.EventName == "ErrorProcessingRequest" && entry.Exception is { } parse && !parse.ToString().Contains("SensorHub.", StringComparison.Ordinal))
            return null;
        return "the server logged an error";
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(ServerLogEntry entry)
    {
        // SignalR's other debug entries are many and say nothing about faults.
        if (entry.Level < LogLevel.Warning && !s_failureEvents.Contains(entry.EventName))
            return;
        _entries.Enqueue(entry);
    }

    private sealed class Logger(ServerFaultLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Add(new ServerLogEntry(category, logLevel, eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), formatter(state, exception), exception));
    }
}
