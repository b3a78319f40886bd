using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SensorHub.Contracts;
using SensorHub.Server.Feeds;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>CSV uploads over the hub, on both protocols: a wide file's readings reach a subscriber, and bad <c>csv</c> options are refused at <c>BeginUpload</c>.</summary>
public sealed class CsvUploadTests(ApplicationFixture apps) : IClassFixture<ApplicationFixture>
{
    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task WideFileReadingsReachASubscriberOfOneOfItsSensors(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var prefix = Sensors.NewId("wide") + "/";
        var sensorId = prefix + "temp";
        await app.Engine.PublishAsync(sensorId, 1);
        await using var uploader = await app.ConnectAsync(protocol);
        await using var viewer = await app.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var live = Task.Run(async () =>
        {
            var readings = new List<Reading>();
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            await foreach (var reading in viewer.Hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, null, leave.Token))
            {
                readings.Add(reading);
                if (readings.Count == 3)
                    break;
            }
            await leave.CancelAsync();
            return readings;
        }, cts.Token);
        await Hubs.SubscribeTests.WaitForSubscriberAsync(app, sensorId);
        var file = Encoding.UTF8.GetBytes(
            "Time;temp;rh\r\n30.11.2026 04:00:00;21,5;40\r\n30.11.2026 04:01:00;21,75;\r\n30.11.2026 04:02:00;22;oops\r\n");

        var begun = await uploader.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "wide.csv",
            ContentType = "text/csv",
            TotalBytes = file.Length,
            Csv = new CsvOptions { SensorPrefix = prefix, TimeZone = "Europe/Berlin", TimestampFormat = "dd.MM.yyyy HH:mm:ss" },
        });
        var result = await uploader.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(file, 7, cts.Token), cts.Token);

        var readings = await live;
        Assert.Equal([21.5, 21.75, 22], readings.Select(r => r.Value));
        Assert.Equal(new DateTime(2026, 11, 30, 3, 0, 0, DateTimeKind.Utc), readings[0].Timestamp);
        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal(("wide", ";", true), (csv.Layout, csv.Delimiter, csv.Header));
        Assert.Equal((3L, 4L, 1L), (csv.Rows, csv.Accepted, csv.Rejected));
        var rejection = Assert.Single(csv.FirstRejections);
        Assert.Equal((4L, "rh", SensorHubErrors.InvalidArgument), (rejection.Line, rejection.Column, rejection.Code));
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task AResumeByAnotherConnectionReadsWithTheOptionsTheUploadBeganWith(Protocol protocol)
    {
        var app = apps[Transport.TestServer];
        var prefix = Sensors.NewId("resume") + "/";
        var file = Encoding.UTF8.GetBytes("id|ts|value\na|30.11.2026 03:00|1\na|30.11.2026 03:01|2\na|30.11.2026 03:02|3\n");
        var half = file.Length / 2;
        using var cts = new CancellationTokenSource(Timeouts.Default);
        string uploadId;
        await using (var first = await app.ConnectAsync(protocol))
        {
            uploadId = (await first.Hub.BeginUploadAsync(new UploadRequest
            {
                Name = "piped.csv",
                ContentType = "text/csv",
                TotalBytes = file.Length,
                Csv = new CsvOptions { Delimiter = "|", SensorPrefix = prefix, TimestampFormat = "dd.MM.yyyy HH:mm" },
            })).UploadId;
            await Assert.ThrowsAnyAsync<Exception>(() => first.Hub.UploadAsync(uploadId, 0, Cut(file[..half]), cts.Token).WaitAsync(Timeouts.Default));
        }
        await using var second = await app.ConnectAsync(protocol);
        var status = await second.Hub.GetUploadStatusAsync(uploadId);
        var result = await second.Hub.UploadAsync(uploadId, status.ReceivedBytes, UploadStreams.Chunks([file[(int)status.ReceivedBytes..]]), cts.Token);

        var csv = Assert.IsType<CsvSummary>(result.Csv);
        Assert.Equal(("long", "|", 3L, 3L), (csv.Layout, csv.Delimiter, csv.Rows, csv.Accepted));
        var history = await app.Services.GetRequiredService<IReadingHistory>().ReadAsync(prefix + "a", 0, 10, CancellationToken.None);
        Assert.Equal([1.0, 2, 3], history.Select(r => r.Value));

        // The first part, then the stream breaks: the upload stays unfinished, to be resumed.
        static async IAsyncEnumerable<byte[]> Cut(byte[] part)
        {
            yield return part;
            await Task.Yield();
            throw new IOException("the client went away");
        }
    }

    public static TheoryData<Protocol, string> BadOptions
    {
        get
        {
            var data = new TheoryData<Protocol, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                foreach (var name in s_badOptions.Keys)
                    data.Add(protocol, name);
            }
            return data;
        }
    }

    private static readonly Dictionary<string, (UploadRequest Request, string Message)> s_badOptions = new()
    {
        ["delimiter"] = (Csv(new CsvOptions { Delimiter = "::" }), "request.csv.delimiter must be one of ',', ';', '\\t' (tab) or '|'; it was '::'."),
        ["prefix"] = (Csv(new CsvOptions { SensorPrefix = "plant 9/" }), "request.csv.sensorPrefix 'plant 9/' cannot start a sensor id"),
        ["time-zone"] = (Csv(new CsvOptions { TimeZone = "Europe/Atlantis" }), "request.csv.timeZone 'Europe/Atlantis' is not an IANA time zone id"),
        ["format"] = (Csv(new CsvOptions { TimestampFormat = "unixMinutes" }), "request.csv.timestampFormat 'unixMinutes' is neither"),
        ["not-csv"] = (Csv(new CsvOptions { Delimiter = ";" }) with { ContentType = "text/plain" }, "request.csv is given, but request.contentType is 'text/plain'"),
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task BadCsvOptionsAreRefusedNamingTheFieldAndTheConnectionGoesOn(Protocol protocol, string @case)
    {
        var (request, message) = s_badOptions[@case];
        var app = apps[Transport.TestServer];
        await using var connection = await app.ConnectAsync(protocol);

        var refused = await Assert.ThrowsAsync<HubException>(() => connection.Hub.BeginUploadAsync(request).WaitAsync(Timeouts.Default));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        Assert.Equal(SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(refused.Message));
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        var good = await connection.Hub.BeginUploadAsync(request with { ContentType = "text/csv", Csv = new CsvOptions { Delimiter = ";" } });
        Assert.False(good.Complete);
    }

    private static UploadRequest Csv(CsvOptions options) => new() { Name = "options.csv", ContentType = "text/csv", TotalBytes = 10, Csv = options };
}
