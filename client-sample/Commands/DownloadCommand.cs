using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>download &lt;uploadId&gt; &lt;file&gt;</c>: a stored upload, written as it streams.</summary>
internal static class DownloadCommand
{
    public static async Task<int> RunAsync(SensorHubClient client, CommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var uploadId = line.Argument(0, "uploadId");
        var path = line.Argument(1, "file");
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            await client.DownloadAsync(uploadId, file, cancellationToken);
        await output.WriteLineAsync($"{new FileInfo(path).Length} bytes written to {path}");
        return 0;
    }
}
