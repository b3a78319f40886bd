using System.Reflection;
using Microsoft.Extensions.Logging;

namespace SensorHub.Tests.Logging;

/// <summary>
/// Every <c>[LoggerMessage]</c> of the server, the SDK and the client sample has an event id of its own across all
/// three and a name, so that a log search by id (or by name) finds one kind of entry, whichever program wrote it.
/// </summary>
public sealed class EventIdTests
{
    private static readonly string[] s_assemblies = ["SensorHub.Server", "SensorHub.Client", "sensorhub" /* the client sample */];

    public static TheoryData<string> Assemblies => [.. s_assemblies];

    [Fact]
    public void NoTwoLogMessagesShareAnEventId()
    {
        var duplicates = LogMessages()
            .GroupBy(m => m.Id)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Where))}")
            .ToList();

        Assert.True(duplicates.Count == 0, "Event ids used more than once:\n" + string.Join("\n", duplicates));
    }

    [Fact]
    public void EveryLogMessageHasAnExplicitIdAndAName()
    {
        var messages = LogMessages();

        Assert.NotEmpty(messages);
        Assert.All(messages, m =>
        {
            Assert.True(m.Id > 0, $"{m.Where} has no event id of its own ({m.Id}).");
            Assert.False(string.IsNullOrEmpty(m.EmittedName), $"{m.Where} is logged without an event name.");
            Assert.Equal(m.Id, m.EmittedId);
        });
    }

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void EachAssemblyHasLogMessagesToCheck(string assembly) =>
        // The sample has none today; the check is that the assembly loads, so that one added later is seen.
        Assert.NotNull(Assembly.Load(assembly));

    /// <summary>
    /// Each log method with its declared id, and the id and name it really logs with: the method is called with a
    /// logger that keeps the <see cref="EventId"/>, so what the source generator made is what is checked (it names
    /// an event after its method when the attribute gives no <c>EventName</c>).
    /// </summary>
    private static List<LogMessage> LogMessages()
    {
        var found = new List<LogMessage>();
        foreach (var name in s_assemblies)
        {
            foreach (var type in Assembly.Load(name).GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is not { } attribute)
                        continue;
                    var emitted = Emitted(method);
                    found.Add(new LogMessage($"{name}: {type.FullName}.{method.Name}", attribute.EventId, emitted.Id, emitted.Name));
                }
            }
        }
        return found;
    }

    private static EventId Emitted(MethodInfo method)
    {
        var logger = new EventIdLogger();
        var arguments = method.GetParameters()
            .Select(p => p.ParameterType == typeof(ILogger) ? logger
                : p.ParameterType == typeof(LogLevel) ? LogLevel.Critical
                : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType)
                : null)
            .ToArray();
        method.Invoke(null, arguments);
        Assert.True(logger.Logged is not null, $"{method.DeclaringType}.{method.Name} logged nothing to an ILogger argument.");
        return logger.Logged.Value;
    }

    private sealed record LogMessage(string Where, int Id, int EmittedId, string? EmittedName);

    private sealed class EventIdLogger : ILogger
    {
        public EventId? Logged { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Logged = eventId;
    }
}
