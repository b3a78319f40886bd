using System.CommandLine;
using System.Globalization;
using SensorHub.Client;
using SensorHub.Contracts;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>session join &lt;id&gt;</c> and <c>session annotate &lt;id&gt; &lt;text&gt;</c>.</summary>
internal static class SessionCommands
{
    public static Command Create(ServerOptions server) =>
        new("session", "Take part in a live session.") { CreateJoin(server), CreateAnnotate(server) };

    private static Command CreateJoin(ServerOptions server)
    {
        var sessionId = new Argument<string>("sessionId") { Description = "The session." };
        var command = new Command("join", "Print who comes and goes, and the annotations, until the session ends or Ctrl+C.") { sessionId };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => JoinAsync(client, result.GetRequiredValue(sessionId), result.InvocationConfiguration.Output, ct),
            cancellationToken));
        return command;
    }

    private static Command CreateAnnotate(ServerOptions server)
    {
        var sessionId = new Argument<string>("sessionId") { Description = "The session." };
        var text = new Argument<string>("text") { Description = "The note." };
        var sensor = CheckedArguments.SensorIdOption("--sensor", "The sensor the note is about.");
        var sequence = CheckedArguments.WholeNumber("--sequence", atLeast: 0, "The reading the note is about (needs --sensor).");
        var command = new Command("annotate", "Add a note to a session, for everyone in it.") { sessionId, text, sensor, sequence };
        // The server's rule too, checked here so that it costs no connection. Whether the options were given, not their
        // values: reading a value that failed to parse throws.
        command.Validators.Add(result =>
        {
            if (result.GetResult(sequence) is not null && result.GetResult(sensor) is null)
                result.AddError("--sequence needs --sensor: a sequence number points at one sensor's reading.");
        });
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => AnnotateAsync(
                client,
                result.GetRequiredValue(sessionId),
                new AnnotationInput { Text = result.GetRequiredValue(text), SensorId = result.GetValue(sensor), Sequence = result.GetValue(sequence) },
                result.InvocationConfiguration.Output,
                ct),
            cancellationToken));
        return command;
    }

    /// <summary>Prints the session's events until it ends or Ctrl+C; the SDK rejoins after a dropped connection.</summary>
    private static async Task<int> JoinAsync(SensorHubClient client, string sessionId, TextWriter output, CancellationToken cancellationToken)
    {
        await foreach (var e in client.JoinSessionAsync(sessionId, cancellationToken))
        {
            var text = e.Kind switch
            {
                SessionEventKinds.Snapshot =>
                    $"{e.Session!.Title} ({e.Session.Owner}), sensors {string.Join(", ", e.Session.SensorIds)}; " +
                    $"here: {string.Join(", ", e.Participants!.Select(Describe))}" +
                    string.Concat(e.Annotations!.Select(a => $"\n  {Describe(a)}")),
                SessionEventKinds.Joined => $"+ {Describe(e.Participant!)} joined",
                SessionEventKinds.Left => $"- {Describe(e.Participant!)} left",
                SessionEventKinds.Annotated => Describe(e.Annotation!),
                SessionEventKinds.SensorsChanged => $"sensors now {string.Join(", ", e.SensorIds!)}",
                SessionEventKinds.Ended => "the session has ended",
                _ => e.Kind,
            };
            await output.WriteLineAsync(text);
        }
        return 0;
    }

    private static async Task<int> AnnotateAsync(
        SensorHubClient client, string sessionId, AnnotationInput input, TextWriter output, CancellationToken cancellationToken)
    {
        await client.AnnotateAsync(sessionId, input, cancellationToken);
        await output.WriteLineAsync("annotated");
        return 0;
    }

    /// <summary>
    /// A participant by name, with their id where it says more than the name: two people may share a name, and presence
    /// is by id. A dev token's id is its name, so it shows the name alone.
    /// </summary>
    private static string Describe(Participant p) => Who(p.Name, p.Id);

    private static string Who(string name, string id) => id == name || id.Length == 0 ? name : $"{name} ({id})";

    private static string Describe(Annotation a) =>
        string.Create(CultureInfo.InvariantCulture, $"[{a.Time:HH:mm:ss}] {Who(a.Author, a.AuthorId)}: {a.Text}") +
        (a.SensorId is null ? "" : $" ({a.SensorId}{(a.Sequence is { } s ? $" #{s}" : "")})");
}
