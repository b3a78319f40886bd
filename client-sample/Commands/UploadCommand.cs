using System.CommandLine;
using SensorHub.Client;
using SensorHub.Contracts;

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
        var delimiter = new Option<string?>("--delimiter")
        {
            Description = "CSV: the field delimiter, one of , ; tab | (default: detected from the first line).",
            HelpName = "CHAR",
        };
        delimiter.AcceptOnlyFromAmong(",", ";", "tab", "\t", "\\t", "|");
        var sensorPrefix = new Option<string?>("--sensor-prefix") { Description = "CSV: put before every sensor id the file names (a wide file's column names).", HelpName = "PREFIX" };
        var timeZone = new Option<string?>("--time-zone") { Description = "CSV: the IANA time zone of timestamps without an offset (default: UTC).", HelpName = "ZONE" };
        var timestampFormat = new Option<string?>("--timestamp-format")
        {
            Description = "CSV: iso8601, unixSeconds, unixMilliseconds or a .NET custom format such as 'dd.MM.yyyy HH:mm:ss' (default: detected per value).",
            HelpName = "FORMAT",
        };
        var command = new Command("upload", "Upload a file with a progress bar; resumes if the connection drops.") { file, contentType, delimiter, sensorPrefix, timeZone, timestampFormat };
        command.SetAction((result, cancellationToken) =>
        {
            var csv = CsvOptionsOf(result.GetValue(delimiter), result.GetValue(sensorPrefix), result.GetValue(timeZone), result.GetValue(timestampFormat));
            return server.RunAsync(
                result,
                (client, ct) => RunAsync(client, result.GetRequiredValue(file), result.GetValue(contentType), csv, result.InvocationConfiguration.Output, ct),
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        SensorHubClient client, FileInfo path, string? contentType, CsvOptions? csvOptions, TextWriter output, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
        var options = new UploadOptions { Name = path.Name, ContentType = contentType ?? ContentTypeOf(path.Name), Csv = csvOptions };

        var bar = new ProgressBar(output);
        var result = await client.UploadAsync(file, options, bar, cancellationToken);
        bar.Finish();

        await output.WriteLineAsync($"upload {result.UploadId}: {result.Bytes} bytes, SHA-256 {result.Sha256}");
        if (result.Log is { } log)
            await output.WriteLineAsync(
                $"log: {log.Lines} lines, {log.Entries} entries{(log.Format.Length > 0 ? $" ({log.Format})" : "")}: {log.Errors} errors, {log.Warnings} warnings, {log.Infos} infos, {log.Debug} debug, {log.Other} other");
        if (result.Csv is { } csv)
            await output.WriteLineAsync($"csv ({csv.Layout}, delimiter '{(csv.Delimiter == "\t" ? "tab" : csv.Delimiter)}'{(csv.Header ? ", header" : "")}): {csv.Rows} rows, {csv.Accepted} readings published, {csv.Rejected} rejected");
        return 0;
    }

    /// <summary>The request's csv object, or none when no csv option is given (the server then detects everything).</summary>
    private static CsvOptions? CsvOptionsOf(string? delimiter, string? sensorPrefix, string? timeZone, string? timestampFormat) =>
        delimiter is null && sensorPrefix is null && timeZone is null && timestampFormat is null
            ? null
            : new CsvOptions
            {
                Delimiter = delimiter is "tab" or "\\t" ? "\t" : delimiter,
                SensorPrefix = sensorPrefix,
                TimeZone = timeZone,
                TimestampFormat = timestampFormat,
            };

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
