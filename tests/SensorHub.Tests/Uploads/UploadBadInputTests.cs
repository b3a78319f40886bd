using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Uploads;

/// <summary>
/// Each bad upload input gets a HubException that says what was wrong; the connection goes on working, the bytes
/// already received are not harmed, and nothing but <c>{id}.data</c> and <c>{id}.json</c> ever lands in the data
/// folder. The server allows chunks of <see cref="MaxChunk"/> bytes, so that a chunk over the limit still fits in a
/// hub message (whose size limit follows the chunk limit) and reaches the upload code.
/// </summary>
public sealed partial class UploadBadInputTests(UploadBadInputTests.SmallChunkServer server) : IClassFixture<UploadBadInputTests.SmallChunkServer>
{
    public const int MaxChunk = 4096;

    private SensorHubApplication App => server.App;

    // ---- BeginUpload ----

    private static readonly Dictionary<string, (UploadRequest? Request, string Message)> s_badRequests = new()
    {
        ["slash"] = (Request("plant-1/export.csv"), "request.name 'plant-1/export.csv' contains a path separator"),
        ["backslash"] = (Request("plant-1\\export.csv"), "request.name 'plant-1\\export.csv' contains a path separator"),
        ["escape"] = (Request("../../escape.txt"), "request.name '../../escape.txt' contains a path separator"),
        ["absolute"] = (Request("/etc/passwd"), "contains a path separator"),
        ["dot-dot"] = (Request(".."), "request.name '..' contains '..'"),
        ["dot-dot-inside"] = (Request("report..txt"), "request.name 'report..txt' contains '..'"),
        ["empty"] = (Request(""), "request.name is empty"),
        ["whitespace"] = (Request(" \t  "), "request.name is empty"),
        ["null-request"] = (null, "request"),
        ["control-character"] = (Request("a\u0001b.txt"), "request.name contains control characters"),
        ["too-long"] = (Request(new string('n', 256)), "request.name is 256 characters long; at most 255"),
        ["content-type"] = (Request("a.txt") with { ContentType = "text/plain\n" }, "request.contentType is not a media type"),
        ["negative-total"] = (Request("a.bin") with { TotalBytes = -1 }, "request.totalBytes must be 0 or more; it was -1"),
        ["most-negative-total"] = (Request("a.bin") with { TotalBytes = long.MinValue }, "request.totalBytes must be 0 or more"),
        ["total-over-limit"] = (Request("a.bin") with { TotalBytes = 5L << 30 }, "request.totalBytes (5368709120) is over the largest upload allowed"),
        ["sha256-uppercase"] = (Request("a.bin") with { Sha256 = UploadStreams.Sha256Of([1, 2, 3]).ToUpperInvariant() }, "request.sha256 must be 64 lowercase hexadecimal digits"),
        ["sha256-short"] = (Request("a.bin") with { Sha256 = UploadStreams.Sha256Of([1, 2, 3])[..63] }, "request.sha256 must be 64 lowercase hexadecimal digits"),
        ["sha256-long"] = (Request("a.bin") with { Sha256 = UploadStreams.Sha256Of([1, 2, 3]) + "0" }, "request.sha256 must be 64 lowercase hexadecimal digits"),
        ["sha256-not-hex"] = (Request("a.bin") with { Sha256 = new string('g', 64) }, "request.sha256 must be 64 lowercase hexadecimal digits"),
        ["sha256-empty"] = (Request("a.bin") with { Sha256 = "" }, "request.sha256 must be 64 lowercase hexadecimal digits"),
    };

    public static TheoryData<Protocol, string> BadRequests
    {
        get
        {
            var data = new TheoryData<Protocol, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                foreach (var name in s_badRequests.Keys)
                    data.Add(protocol, name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadUploadRequestIsRefusedWithWhatWasWrongAndCreatesNothing(Protocol protocol, string @case)
    {
        var (request, message) = s_badRequests[@case];
        await using var connection = await App.ConnectAsync(protocol);
        var before = await ListAsync(connection);

        var refused = await AssertRefusedAsync(connection.Hub.BeginUploadAsync(request!), message);

        // Over a size limit is its own code, so that a client can say "too large" whichever limit it met.
        Assert.Equal(@case == "total-over-limit" ? SensorHubErrors.TooLarge : SensorHubErrors.InvalidArgument, SensorHubErrors.CodeOf(refused.Message));
        var after = await ListAsync(connection);
        Assert.Equal(before.Count, after.Count);
        await AssertConnectionWorksAsync(connection);
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    // ---- Unknown upload ids ----

    public static TheoryData<Protocol, string> UnknownIds
    {
        get
        {
            var data = new TheoryData<Protocol, string>();
            foreach (var protocol in Enum.GetValues<Protocol>())
            {
                foreach (var id in new[] { "0123456789abcdef0123456789abcdef", "../../etc/passwd", "..\\..\\boot.ini", "/tmp/x", "", "(null)", "(a known id in upper case)", "(a long string)" })
                    data.Add(protocol, id);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(UnknownIds))]
    public async Task MalformedOrUnknownUploadIdIsRefusedByEveryUploadMethodWithoutEchoingIt(Protocol protocol, string given)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var known = await CompleteUploadAsync(connection, UploadStreams.RandomBytes(3000), cts.Token);
        var id = given switch
        {
            "(null)" => null,
            "(a known id in upper case)" => known.UploadId.ToUpperInvariant(),
            "(a long string)" => new string('a', 3_000),
            _ => given,
        };
        // Only a well-formed id is looked up (and named); any other is refused for its form, never echoed.
        var message = id switch
        {
            null => "[invalid_argument] uploadId is required.",
            "" => "[invalid_argument] uploadId is empty.",
            _ when id.Length == 32 && id.All(char.IsAsciiHexDigitLower) => $"[unknown_upload] uploadId: no upload '{id}' is known",
            _ => "[invalid_argument] uploadId is malformed: an upload id is 32 lowercase hexadecimal digits.",
        };

        await AssertRefusedAsync(connection.Hub.UploadAsync(id!, 0, UploadStreams.Chunks([new byte[100]]), cts.Token), message);
        Assert.True((await AssertRefusedAsync(connection.Hub.GetUploadStatusAsync(id!), message)).Message.Length < 300);
        await AssertRefusedAsync(connection.Hub.DownloadAsync(id!, 0, cts.Token), message);
        await AssertRefusedAsync(WatchAsync(connection, id, cts.Token), message);

        Assert.Equal(known, await connection.Hub.GetUploadStatusAsync(known.UploadId));
        await AssertConnectionWorksAsync(connection);
        AssertDataFolderHoldsOnlyUploadFiles();
        if (id is { Length: > 0 })
        {
            foreach (var suffix in new[] { "", ".data", ".json" })
                Assert.False(File.Exists(Path.GetFullPath(Path.Combine(App.DataPath, id + suffix))), $"A file was made for the id '{id}'.");
        }
    }

    // ---- Offsets ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task OffsetThatIsNegativeOrNotTheBytesReceivedIsRefusedAndTheUploadResumes(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * MaxChunk + 100);
        var begun = await BeginAsync(connection, "offsets.bin", data);
        var first = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data[..MaxChunk], MaxChunk), cts.Token);
        Assert.Equal((MaxChunk, false), (first.Bytes, first.Complete));
        var partial = await connection.Hub.GetUploadStatusAsync(begun.UploadId);

        var wrong = UploadStreams.RandomBytes(MaxChunk - 1);
        foreach (var offset in new[] { -1L, long.MinValue })
            await AssertRefusedAsync(connection.Hub.UploadAsync(begun.UploadId, offset, UploadStreams.Chunks([wrong]), cts.Token), $"offset must be 0 or more; it was {offset}");
        foreach (var offset in new[] { 0L, MaxChunk - 1, MaxChunk + 1, 2 * MaxChunk, long.MaxValue })
        {
            await AssertRefusedAsync(
                connection.Hub.UploadAsync(begun.UploadId, offset, UploadStreams.Chunks([wrong]), cts.Token),
                $"offset {offset} does not match the {MaxChunk} bytes already received; resume at {MaxChunk}");
            Assert.Equal(partial, await connection.Hub.GetUploadStatusAsync(begun.UploadId));
        }

        Assert.Equal(MaxChunk, DataFileLength(begun.UploadId));
        await AssertResumesToTheWholeFileAsync(connection, begun.UploadId, MaxChunk, data, cts.Token);
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    // ---- Chunks over the limits ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ChunkOverTheLimitIsRefusedWholeAndTheUploadKeepsItsBytesAndResumes(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(4 * MaxChunk + 10);
        var begun = await BeginAsync(connection, "big-chunk.bin", data);

        await AssertRefusedAsync(
            connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([data[..MaxChunk], data[MaxChunk..(2 * MaxChunk)], data[(2 * MaxChunk)..(3 * MaxChunk + 1)]]), cts.Token),
            $"A chunk of {MaxChunk + 1} bytes is over the {MaxChunk}-byte limit; it was refused and the upload keeps its {2 * MaxChunk} bytes");
        var kept = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        Assert.Equal((2L * MaxChunk, false, (string?)null), (kept.ReceivedBytes, kept.Complete, kept.Error));
        Assert.Equal(2 * MaxChunk, DataFileLength(begun.UploadId));

        // Further over the limit (but still inside a hub message, base64 included): refused the same way.
        await AssertRefusedAsync(
            connection.Hub.UploadAsync(begun.UploadId, 2 * MaxChunk, UploadStreams.Chunks([data[(2 * MaxChunk)..(2 * MaxChunk + 6000)]]), cts.Token),
            $"A chunk of 6000 bytes is over the {MaxChunk}-byte limit; it was refused and the upload keeps its {2 * MaxChunk} bytes");
        Assert.Equal(kept, await connection.Hub.GetUploadStatusAsync(begun.UploadId));

        await AssertResumesToTheWholeFileAsync(connection, begun.UploadId, 2 * MaxChunk, data, cts.Token);
        await AssertConnectionWorksAsync(connection);
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ChunkPastTotalBytesIsRefusedWholeAndTheUploadKeepsItsBytesAndResumes(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(10_000);
        var begun = await BeginAsync(connection, "too-much.bin", data);
        var tooMuch = data.Concat(UploadStreams.RandomBytes(2 * MaxChunk)).ToArray();

        await AssertRefusedAsync(
            connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(tooMuch, MaxChunk), cts.Token),
            $"A chunk of {MaxChunk} bytes would take the upload past its totalBytes (10000); it was refused and the upload keeps its {2 * MaxChunk} bytes");
        var kept = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        Assert.Equal((2L * MaxChunk, false), (kept.ReceivedBytes, kept.Complete));
        Assert.Equal(2 * MaxChunk, DataFileLength(begun.UploadId));

        // One byte too many, at the end: refused whole too.
        await AssertRefusedAsync(
            connection.Hub.UploadAsync(begun.UploadId, 2 * MaxChunk, UploadStreams.Chunks([tooMuch[(2 * MaxChunk)..(data.Length + 1)]]), cts.Token),
            $"A chunk of {data.Length + 1 - 2 * MaxChunk} bytes would take the upload past its totalBytes (10000)");
        Assert.Equal(kept, await connection.Hub.GetUploadStatusAsync(begun.UploadId));

        await AssertResumesToTheWholeFileAsync(connection, begun.UploadId, 2 * MaxChunk, data, cts.Token);
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    // ---- Completed, failed and busy uploads ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task ResumeOfACompletedUploadIsRefusedAndItsBytesStay(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * MaxChunk + 5);
        var completed = await CompleteUploadAsync(connection, data, cts.Token);

        foreach (var offset in new[] { (long)data.Length, 0L, 1L })
        {
            await AssertRefusedAsync(
                connection.Hub.UploadAsync(completed.UploadId, offset, UploadStreams.Chunks([UploadStreams.RandomBytes(10)]), cts.Token),
                $"uploadId: upload '{completed.UploadId}' is already complete; it cannot be resumed");
        }

        Assert.Equal(completed, await connection.Hub.GetUploadStatusAsync(completed.UploadId));
        Assert.Equal(data.Length, DataFileLength(completed.UploadId));
        Assert.Equal(data, await connection.Hub.DownloadAsync(completed.UploadId, 0, cts.Token));
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task SecondWriterIsRefusedWhileTheFirstStreamIsOpenAndTheFirstCompletes(Protocol protocol)
    {
        await using var first = await App.ConnectAsync(protocol);
        await using var second = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * MaxChunk);
        var begun = await BeginAsync(first, "contended.bin", data);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var writing = first.Hub.UploadAsync(begun.UploadId, 0, FirstThenWait(data, MaxChunk, gate.Task, cts.Token), cts.Token);
        await Timeouts.WaitUntilAsync(() => App.Services.GetStatus(begun.UploadId).ReceivedBytes == MaxChunk, Timeouts.Default, "the first chunk on disk");

        var message = $"uploadId: upload '{begun.UploadId}' already has a writer; one Upload stream at a time may append to it";
        await AssertRefusedAsync(second.Hub.UploadAsync(begun.UploadId, MaxChunk, UploadStreams.Chunks(data[MaxChunk..], MaxChunk), cts.Token), message);
        await AssertRefusedAsync(second.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token), message);
        // The same connection gets no second writer either.
        await AssertRefusedAsync(first.Hub.UploadAsync(begun.UploadId, MaxChunk, UploadStreams.Chunks(data[MaxChunk..], MaxChunk), cts.Token), message);
        Assert.Equal(MaxChunk, (await second.Hub.GetUploadStatusAsync(begun.UploadId)).ReceivedBytes);
        Assert.False(writing.IsCompleted);

        gate.SetResult();
        var result = await writing.WaitAsync(Timeouts.Default);

        Assert.Equal((data.Length, true, UploadStreams.Sha256Of(data)), (result.Bytes, result.Complete, result.Sha256));
        Assert.Equal(data, await second.Hub.DownloadAsync(begun.UploadId, 0, cts.Token));
        await AssertConnectionWorksAsync(second);
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task Sha256MismatchFailsTheUploadDeletesItsBytesAndRefusesAResume(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(3 * MaxChunk + 1);
        var actual = UploadStreams.Sha256Of(data);
        var declared = UploadStreams.Sha256Of(data.AsSpan(1));
        var begun = await connection.Hub.BeginUploadAsync(new UploadRequest
        {
            Name = "mismatch.bin", ContentType = "application/octet-stream", TotalBytes = data.Length, Sha256 = declared,
        });

        var failure = await AssertRefusedAsync(
            connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token),
            $"Upload '{begun.UploadId}' failed: sha256 mismatch");
        Assert.Contains(actual, failure.Message, StringComparison.Ordinal);
        Assert.Contains(declared, failure.Message, StringComparison.Ordinal);

        var status = await connection.Hub.GetUploadStatusAsync(begun.UploadId);
        Assert.Contains("sha256 mismatch", status.Error, StringComparison.Ordinal);
        Assert.Equal((false, (string?)null, 0L), (status.Complete, status.Sha256, status.ReceivedBytes));
        Assert.Contains(status, await ListAsync(connection));
        Assert.False(File.Exists(Path.Combine(App.DataPath, begun.UploadId + ".data")), "The failed upload's bytes were kept.");
        Assert.True(File.Exists(Path.Combine(App.DataPath, begun.UploadId + ".json")), "The failed upload's record is gone.");

        foreach (var offset in new[] { 0L, data.Length })
        {
            await AssertRefusedAsync(
                connection.Hub.UploadAsync(begun.UploadId, offset, UploadStreams.Chunks(data, MaxChunk), cts.Token),
                $"uploadId: upload '{begun.UploadId}' failed (sha256 mismatch");
        }
        await AssertRefusedAsync(connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, MaxChunk), cts.Token), "it cannot be resumed");
        await AssertRefusedAsync(connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token), $"uploadId: upload '{begun.UploadId}' is not complete");
        Assert.Equal([status], await WatchAsync(connection, begun.UploadId, cts.Token));
        Assert.Equal(status, await connection.Hub.GetUploadStatusAsync(begun.UploadId));
        Assert.False(File.Exists(Path.Combine(App.DataPath, begun.UploadId + ".data")), "A refused resume wrote bytes.");
        AssertDataFolderHoldsOnlyUploadFiles();
    }

    // ---- Downloads ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task DownloadOfAnIncompleteUploadOrFromPastItsEndIsRefused(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var data = UploadStreams.RandomBytes(2 * MaxChunk + 3);
        var begun = await BeginAsync(connection, "download.bin", data);
        await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data[..MaxChunk], MaxChunk), cts.Token);

        await AssertRefusedAsync(
            connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token),
            $"uploadId: upload '{begun.UploadId}' is not complete; only complete uploads can be downloaded");
        await AssertRefusedAsync(connection.Hub.DownloadAsync(begun.UploadId, MaxChunk, cts.Token), "is not complete");
        Assert.Equal(MaxChunk, (await connection.Hub.GetUploadStatusAsync(begun.UploadId)).ReceivedBytes);

        await connection.Hub.UploadAsync(begun.UploadId, MaxChunk, UploadStreams.Chunks(data[MaxChunk..], MaxChunk), cts.Token);
        foreach (var offset in new[] { data.Length + 1L, long.MaxValue, -1L, long.MinValue })
        {
            await AssertRefusedAsync(
                connection.Hub.DownloadAsync(begun.UploadId, offset, cts.Token),
                $"offset must be from 0 to the upload's {data.Length} bytes; it was {offset}");
        }

        Assert.Empty(await connection.Hub.DownloadAsync(begun.UploadId, data.Length, cts.Token));
        Assert.Equal(data[^3..], await connection.Hub.DownloadAsync(begun.UploadId, data.Length - 3, cts.Token));
        Assert.Equal(data, await connection.Hub.DownloadAsync(begun.UploadId, 0, cts.Token));
        await AssertConnectionWorksAsync(connection);
    }

    // ---- Nothing outside the data folder ----

    [Theory]
    [MemberData(nameof(HubTargets.Protocols), MemberType = typeof(HubTargets))]
    public async Task NamesThatReachOutOfTheDataFolderWriteNothingAndNoFileIsNamedAfterAClientsName(Protocol protocol)
    {
        await using var connection = await App.ConnectAsync(protocol);
        using var cts = new CancellationTokenSource(Timeouts.Default);
        var tag = $"escape-{Guid.NewGuid():N}";
        string[] escapes =
        [
            $"../../{tag}.txt", $"..\\..\\{tag}.txt", $"/tmp/{tag}.txt", $"{tag}/../../{tag}.txt", $"..{tag}.txt", $"{tag}..",
            $"C:\\{tag}.txt", $"./{tag}.txt",
        ];

        foreach (var name in escapes)
            await Assert.ThrowsAsync<HubException>(() => connection.Hub.BeginUploadAsync(Request(name) with { ContentType = "text/plain" }));
        // A plain name is taken, but only as a record field: the files are named after the server's id.
        var data = System.Text.Encoding.UTF8.GetBytes("INFO a name is only a label\n");
        var begun = await connection.Hub.BeginUploadAsync(Request($"{tag}.txt") with { ContentType = "text/plain", TotalBytes = data.Length });
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks([data]), cts.Token);

        Assert.True(result.Complete);
        Assert.Equal($"{tag}.txt", begun.Name);
        AssertDataFolderHoldsOnlyUploadFiles();
        var root = App.Services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        foreach (var name in escapes.Append($"{tag}.txt"))
        {
            foreach (var folder in new[] { App.DataPath, root, Directory.GetCurrentDirectory() })
            {
                var path = Path.GetFullPath(Path.Combine(folder, name.Replace('\\', '/')));
                Assert.False(File.Exists(path) || Directory.Exists(path), $"'{name}' made {path}.");
            }
        }
        var recursive = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        var testFolders = Path.Combine(Path.GetTempPath(), "sensorhub-tests");
        Assert.Empty(Directory.EnumerateFileSystemEntries(testFolders, $"*{tag}*", recursive));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetTempPath(), $"*{tag}*"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root, $"*{tag}*", recursive));
    }

    // ---- Helpers ----

    private static UploadRequest Request(string name) => new() { Name = name, ContentType = "application/octet-stream" };

    private static Task<UploadStatus> BeginAsync(TestConnection connection, string name, byte[] data) =>
        connection.Hub.BeginUploadAsync(Request(name) with { TotalBytes = data.Length, Sha256 = UploadStreams.Sha256Of(data) });

    private static async Task<UploadStatus> CompleteUploadAsync(TestConnection connection, byte[] data, CancellationToken cancellationToken)
    {
        var begun = await BeginAsync(connection, "good.bin", data);
        var result = await connection.Hub.UploadAsync(begun.UploadId, 0, UploadStreams.Chunks(data, MaxChunk, cancellationToken), cancellationToken);
        Assert.True(result.Complete);
        return await connection.Hub.GetUploadStatusAsync(begun.UploadId);
    }

    private static Task<IReadOnlyList<UploadStatus>> ListAsync(TestConnection connection) =>
        connection.Hub.InvokeAsync<IReadOnlyList<UploadStatus>>(SensorHubMethods.ListUploads).WaitAsync(Timeouts.Default);

    private static async Task<List<UploadStatus>> WatchAsync(TestConnection connection, string? uploadId, CancellationToken cancellationToken)
    {
        var statuses = new List<UploadStatus>();
        await foreach (var status in connection.Hub.StreamAsync<UploadStatus>(SensorHubMethods.WatchUpload, uploadId, cancellationToken))
            statuses.Add(status);
        return statuses;
    }

    /// <summary>Waits (bounded) for <paramref name="call"/> to fail with a HubException whose message holds <paramref name="expected"/>.</summary>
    private static async Task<HubException> AssertRefusedAsync(Task call, string expected)
    {
        var refused = await Assert.ThrowsAsync<HubException>(() => call.WaitAsync(Timeouts.Default));
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        return refused;
    }

    /// <summary>The connection still answers: a listing, and a fresh upload's status.</summary>
    private static async Task AssertConnectionWorksAsync(TestConnection connection)
    {
        Assert.Equal(HubConnectionState.Connected, connection.Hub.State);
        var listed = await ListAsync(connection);
        var begun = await connection.Hub.BeginUploadAsync(Request("still-works.bin") with { TotalBytes = 1 });
        Assert.Equal(begun, await connection.Hub.GetUploadStatusAsync(begun.UploadId));
        Assert.Equal(listed.Count + 1, (await ListAsync(connection)).Count);
    }

    private long DataFileLength(string uploadId) => new FileInfo(Path.Combine(App.DataPath, uploadId + ".data")).Length;

    /// <summary>The data folder holds nothing but <c>{32 hex}.data</c> and <c>{32 hex}.json</c> files.</summary>
    /// <summary>Sends the rest of <paramref name="data"/> from <paramref name="offset"/>: the upload completes as the whole file.</summary>
    private static async Task AssertResumesToTheWholeFileAsync(TestConnection connection, string uploadId, int offset, byte[] data, CancellationToken cancellationToken)
    {
        var result = await connection.Hub.UploadAsync(uploadId, offset, UploadStreams.Chunks(data[offset..], MaxChunk, cancellationToken), cancellationToken);
        Assert.Equal((data.Length, true, UploadStreams.Sha256Of(data)), (result.Bytes, result.Complete, result.Sha256));
        Assert.Equal(data, await connection.Hub.DownloadAsync(uploadId, 0, cancellationToken));
    }

    private void AssertDataFolderHoldsOnlyUploadFiles()
    {
        var strays = Directory.EnumerateFileSystemEntries(App.DataPath)
            .Select(Path.GetFileName)
            .Where(name => !UploadFileName().IsMatch(name!))
            .ToList();
        Assert.True(strays.Count == 0, $"The data folder holds: {string.Join(", ", strays)}");
    }

    [GeneratedRegex("^[0-9a-f]{32}\\.(data|json)$")]
    private static partial Regex UploadFileName();

    /// <summary>The first chunk of <paramref name="data"/>, then the rest once <paramref name="gate"/> opens.</summary>
    private static async IAsyncEnumerable<byte[]> FirstThenWait(byte[] data, int size, Task gate, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return data[..size];
        await gate.WaitAsync(cancellationToken);
        await foreach (var chunk in UploadStreams.Chunks(data[size..], size, cancellationToken))
            yield return chunk;
    }

    /// <summary>One server for the class, whose chunk limit is <see cref="MaxChunk"/>.</summary>
    public sealed class SmallChunkServer : IAsyncLifetime
    {
        public SensorHubApplication App { get; } = new(Transport.TestServer, new Dictionary<string, string?>
        {
            ["SensorHub:Uploads:MaxChunkBytes"] = MaxChunk.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await App.DisposeAsync();
    }
}
