using System.CommandLine;
using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>upload &lt;file&gt;</c>: a progress bar of what the server has written; the SDK resumes after a drop.</summary>
internal static class UploadCommand
{
    public static Command Create(ServerOptions server)
    {
        var file = new Argument<FileInfo>("file") { Description = "The file to upload." }.AcceptExistingOnly();
        var contentType = new Option<string?>("--content-type")
        {
            Description = "The file's media type (default: text/csv for .csv, text/plain for .log and .txt, else application/octet-stream).",
            HelpName = "TYPE",
        };
        var command = new Command("upload", "Upload a file with a progress bar; resumes if the connection drops.") { file, contentType };
        command.SetAction((result, cancellationToken) => server.RunAsync(
            result,
            (client, ct) => RunAsync(client, result.GetRequiredValue(file), result.GetValue(contentType), result.InvocationConfiguration.Output, ct),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        SensorHubClient client, FileInfo path, string? contentType, TextWriter output, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        var options = new UploadOptions { Name = path.Name, ContentType = contentType ?? ContentTypeOf(path.Name) };

        var bar = new ProgressBar(output);
        var result = await client.UploadAsync(file, options, bar, cancellationToken);
        bar.Finish();

        await output.WriteLineAsync($"upload {result.UploadId}: {result.Bytes} bytes, SHA-256 {result.Sha256}");
        if (result.Log is { } log)
            await output.WriteLineAsync(
                $"log: {log.Lines} lines, {log.Entries} entries{(log.Format.Length > 0 ? $" ({log.Format})" : "")}: {log.Errors} errors, {log.Warnings} warnings, {log.Infos} infos, {log.Debug} debug, {log.Other} other");
        if (result.Csv is { } csv)
            await output.WriteLineAsync($"csv: {csv.Rows} rows, {csv.Accepted} published, {csv.Rejected} rejected");
        return 0;
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".CSV" => "text/csv",
        ".LOG" or ".TXT" => "text/plain",
        _ => "application/octet-stream",
    };

    /// <summary>Draws <c>[#####.....]  45%</c> on one line, redrawn at most once per percent.</summary>
    private sealed class ProgressBar(TextWriter output) : IProgress<UploadProgress>
    {
        private const int Width = 30;
        private int _shown = -1;

        public void Report(UploadProgress value)
        {
            var percent = (int)(value.Percent ?? 0);
            if (percent == _shown)
                return;
            _shown = percent;
            var filled = percent * Width / 100;
            output.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}%  {value.BytesSent:N0} bytes");
        }

        public void Finish() => output.WriteLine();
    }
}
