using System.CommandLine;
using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>download &lt;uploadId&gt; &lt;file&gt;</c>: a stored upload, written as it streams.</summary>
internal static class DownloadCommand
{
    public static Command Create(ServerOptions server)
    {
        var uploadId = new Argument<string>("uploadId") { Description = "The upload, as the upload command printed it." };
        var file = CheckedArguments.NewFile("file", "Where to write it; an existing file is overwritten.");
        var command = new Command("download", "Download a stored upload.") { uploadId, file };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => RunAsync(client, result.GetRequiredValue(uploadId), result.GetRequiredValue(file), result.InvocationConfiguration.Output, ct),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(SensorHubClient client, string uploadId, FileInfo file, TextWriter output, CancellationToken cancellationToken)
    {
        await using (var stream = new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            await client.DownloadAsync(uploadId, stream, cancellationToken);
        file.Refresh();
        // The path as it was typed (FileInfo.ToString()), not made absolute.
        await output.WriteLineAsync($"{file.Length} bytes written to {file}");
        return 0;
    }
}
