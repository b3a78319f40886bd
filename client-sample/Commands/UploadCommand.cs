using SensorHub.Client;

namespace SensorHub.ClientSample.Commands;

/// <summary><c>upload &lt;file&gt;</c>: a progress bar of what the server has written; the SDK resumes after a drop.</summary>
internal static class UploadCommand
{
    public static async Task<int> RunAsync(SensorHubClient client, CommandLine line, TextWriter output, CancellationToken cancellationToken)
    {
        var path = line.Argument(0, "file");
        if (!File.Exists(path))
            throw new UsageException($"No file '{path}'.");
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        var options = new UploadOptions { Name = Path.GetFileName(path), ContentType = line.Option("--content-type") ?? ContentTypeOf(path) };

        var bar = new ProgressBar(output);
        var result = await client.UploadAsync(file, options, bar, cancellationToken);
        bar.Finish();

        await output.WriteLineAsync($"upload {result.UploadId}: {result.Bytes} bytes, SHA-256 {result.Sha256}");
        if (result.Log is { } log)
            await output.WriteLineAsync($"log: {log.Lines} lines, {log.Errors} errors, {log.Warnings} warnings, {log.Infos} infos, {log.Other} other");
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
