using System.Diagnostics;
using SensorHub.Bench.Driving;
using SensorHub.Bench.Serving;

namespace SensorHub.Bench;

/// <summary>
/// Issue 17's <c>csv</c> mode (and its slice in <c>smoke</c>): generates a long and a wide CSV into a temporary folder,
/// measures their processing (and, in the full mode, their upload), each row beside the recorded long-form baseline
/// (<see cref="CsvBaseline"/>), and deletes the folder.
/// </summary>
internal static class CsvBench
{
    private static readonly Section s_processing = new(
        "CSV processing (issue 17): the processor alone, this build vs today's long-form processing (recorded)", "this build", "long-form baseline");

    private static readonly Section s_upload = new(
        "CSV upload over the hub (issue 17): this build vs today's long-form processing (recorded)", "this build", "long-form baseline");

    public static async Task<int> RunAsync(
        Report report, CsvScenarios s, Func<string, bool> selected, Func<Section, string, int, Func<Task<Measure>>, Func<Task<Measure>>, Task> compare)
    {
        var folder = Directory.CreateTempSubdirectory("sensorhub-bench-csv-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            var files = new[]
            {
                CsvFiles.WriteLong(Path.Combine(folder, "long.csv"), s.Bytes, s.LongSensors),
                CsvFiles.WriteWide(Path.Combine(folder, "wide.csv"), s.Bytes, s.WideColumns),
            };
            Console.WriteLine($"csv: generated {string.Join(", ", files.Select(f => $"{f.Layout} {f.Bytes / 1e6:F1} MB ({f.Rows:N0} rows, {f.Readings:N0} readings)"))} in {clock.Elapsed.TotalSeconds:F1} s");
            if (s.WarmUp)
            {
                // The processor's code is jitted and tiered up on small files of both layouts first; nothing is kept.
                foreach (var small in new[] { CsvFiles.WriteLong(Path.Combine(folder, "warm-long.csv"), 4_000_000, s.LongSensors), CsvFiles.WriteWide(Path.Combine(folder, "warm-wide.csv"), 4_000_000, s.WideColumns) })
                    await CsvScenario.ProcessAsync(small);
            }

            // A layout whose readings did not all go in is said in the notes: its rows/s then measures rejecting them.
            var notAll = new SortedSet<string>(StringComparer.Ordinal);
            async Task<Measure> Noting(CsvFile file, string how, Task<Measure> run)
            {
                var measure = await run;
                if (measure["readings accepted %"] < 100)
                    notAll.Add($"{how} of the {file.Layout} file accepted {measure["readings accepted %"]:F1} % of its readings");
                return measure;
            }

            foreach (var file in files)
                await compare(s_processing, Name(file), s.Rounds, () => Noting(file, "the processing", CsvScenario.ProcessAsync(file)), () => Task.FromResult(CsvBaseline.Processing));

            if (s.Upload && files.Any(f => selected(Name(f))))
            {
                await using var server = await BenchTarget.LaunchAsync(ServerKind.SensorHub);
                Console.WriteLine($"csv: a SensorHub of its own (pid {server.Pid}) for the uploads");
                foreach (var file in files)
                    await compare(s_upload, Name(file), s.UploadRounds, () => Noting(file, "the upload", CsvScenario.UploadAsync(server, file)), () => Task.FromResult(CsvBaseline.Upload));
            }
            foreach (var line in notAll)
                report.Findings.Add($"CSV: {line} (today's long-form processor rejects every wide row).");
            report.Findings.Add($"CSV files: {string.Join("; ", files.Select(f => $"{f.Layout}: {f.Bytes:N0} bytes, {f.Rows:N0} rows, {f.Readings:N0} readings, {f.Sensors} sensors"))}.");
            return 0;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            report.Failures.Add($"csv: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine($"FAILED {report.Failures[^1]}");
            return 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Name(CsvFile file) => $"csv {file.Layout}: {file.Bytes / 1e6:F0} MB, {file.Rows:N0} rows, {file.Sensors} sensors";
}
