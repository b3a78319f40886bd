using System.Globalization;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>session join &lt;id&gt;</c> and <c>session annotate &lt;id&gt; &lt;text&gt;</c>.</summary>
internal static class SessionCommands
{
    public static Task<int> RunAsync(SensorHubClient client, CommandLine line, TextWriter output, CancellationToken cancellationToken) =>
        line.Argument(0, "join|annotate") switch
        {
            "join" => JoinAsync(client, line.Argument(1, "sessionId"), output, cancellationToken),
            "annotate" => AnnotateAsync(client, line, output, cancellationToken),
            var other => throw new UsageException($"session {other}: use 'session join <id>' or 'session annotate <id> <text>'."),
        };

    /// <summary>Prints the session's events until it ends or Ctrl+C; the SDK rejoins after a dropped connection.</summary>
    private static async Task<int> JoinAsync(SensorHubClient client, string sessionId, TextWriter output, CancellationToken cancellationToken)
    {
        await foreach (var e in client.JoinSessionAsync(sessionId, cancellationToken))
        {
            var text = e.Kind switch
            {
                SessionEventKinds.Snapshot =>
                    $"{e.Session!.Title} ({e.Session.Owner}), sensors {string.Join(", ", e.Session.SensorIds)}; " +
                    $"here: {string.Join(", ", e.Participants!.Select(p => p.Name))}" +
                    string.Concat(e.Annotations!.Select(a => $"\n  {Describe(a)}")),
                SessionEventKinds.Joined => $"+ {e.Participant!.Name} joined",
                SessionEventKinds.Left => $"- {e.Participant!.Name} left",
                SessionEventKinds.Annotated => Describe(e.Annotation!),
                SessionEventKinds.SensorsChanged => $"sensors now {string.Join(", ", e.SensorIds!)}",
                SessionEventKinds.Ended => "the session has ended",
                _ => e.Kind,
            };
            await output.WriteLineAsync(text);
        }
        return 0;
    }

    private static async Task<int> AnnotateAsync(SensorHubClient client, CommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var sessionId = line.Argument(1, "sessionId");
        var text = line.Argument(2, "text");
        await client.AnnotateAsync(
            sessionId,
            new AnnotationInput { Text = text, SensorId = line.Option("--sensor"), Sequence = line.LongOption("--sequence") },
            cancellationToken);
        await output.WriteLineAsync("annotated");
        return 0;
    }

    private static string Describe(Annotation a) =>
        string.Create(CultureInfo.InvariantCulture, $"[{a.Time:HH:mm:ss}] {a.Author}: {a.Text}") +
        (a.SensorId is null ? "" : $" ({a.SensorId}{(a.Sequence is { } s ? $" #{s}" : "")})");
}
