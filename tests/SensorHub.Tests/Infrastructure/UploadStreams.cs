using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure;

/// <summary>Helpers for the upload contract.</summary>
public static class UploadStreams
{
    public static Task<UploadStatus> BeginUploadAsync(this HubConnection hub, UploadRequest request) =>
        hub.InvokeAsync<UploadStatus>(SensorHubMethods.BeginUpload, request).WaitAsync(Timeouts.Default);

    public static Task<UploadStatus> GetUploadStatusAsync(this HubConnection hub, string uploadId) =>
        hub.InvokeAsync<UploadStatus>(SensorHubMethods.GetUploadStatus, uploadId).WaitAsync(Timeouts.Default);

    public static Task<UploadResult> UploadAsync(this HubConnection hub, string uploadId, long offset, IAsyncEnumerable<byte[]> chunks, CancellationToken cancellationToken = default) =>
        hub.InvokeAsync<UploadResult>(SensorHubMethods.Upload, uploadId, offset, chunks, cancellationToken);

    /// <summary>Polls the upload's status until the server no longer knows it: the janitor's look runs on its own task.</summary>
    public static async Task WaitUntilUploadGoneAsync(this HubConnection hub, string uploadId)
    {
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            try
            {
                await hub.GetUploadStatusAsync(uploadId);
            }
            catch (HubException ex) when (SensorHubErrors.CodeOf(ex.Message) == SensorHubErrors.UnknownUpload)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Upload {uploadId} was not deleted within {Timeouts.Default.TotalSeconds} s.");
            await Task.Delay(10);
        }
    }

    /// <summary>Downloads a whole stream into memory (test files are small enough).</summary>
    public static async Task<byte[]> DownloadAsync(this HubConnection hub, string uploadId, long offset, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await foreach (var chunk in hub.StreamAsync<byte[]>(SensorHubMethods.Download, uploadId, offset, cancellationToken))
            buffer.Write(chunk);
        return buffer.ToArray();
    }

    /// <summary><paramref name="data"/> cut into chunks of <paramref name="size"/>, sent one at a time.</summary>
    public static async IAsyncEnumerable<byte[]> Chunks(byte[] data, int size, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var offset = 0; offset < data.Length; offset += size)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return data.AsSpan(offset, Math.Min(size, data.Length - offset)).ToArray();
            await Task.Yield();
        }
    }

    /// <summary>The given chunks as they are.</summary>
    public static async IAsyncEnumerable<byte[]> Chunks(IEnumerable<byte[]> chunks)
    {
        foreach (var chunk in chunks)
        {
            yield return chunk;
            await Task.Yield();
        }
    }

    public static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    public static string Sha256Of(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
