using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure;

/// <summary>
/// Reads a number of items from a hub stream, then cancels it. Leaving <c>await foreach</c> over the .NET client's
/// <c>StreamAsync</c> with <c>break</c> alone would leave the server's generator running until the connection closes.
/// </summary>
public static class StreamReading
{
    public static async Task<List<Reading>> ReadReadingsAsync(
        this HubConnection hub, string sensorId, SubscribeOptions? options, int count, CancellationToken cancellationToken)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readings = new List<Reading>(Math.Min(count, 4_096));
        try
        {
            await foreach (var reading in hub.StreamAsync<Reading>(SensorHubMethods.Subscribe, sensorId, options, leave.Token))
            {
                readings.Add(reading);
                if (readings.Count == count)
                    break;
            }
        }
        finally
        {
            await leave.CancelAsync();
        }
        return readings;
    }

    public static async Task<(List<Reading> Readings, int Batches)> ReadBatchesAsync(
        this HubConnection hub, string sensorId, SubscribeOptions? options, int count, CancellationToken cancellationToken)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readings = new List<Reading>(Math.Min(count, 4_096));
        var batches = 0;
        try
        {
            await foreach (var batch in hub.StreamAsync<Reading[]>(SensorHubMethods.SubscribeBatches, sensorId, options, leave.Token))
            {
                batches++;
                readings.AddRange(batch);
                if (readings.Count >= count)
                    break;
            }
        }
        finally
        {
            await leave.CancelAsync();
        }
        return (readings, batches);
    }
}
