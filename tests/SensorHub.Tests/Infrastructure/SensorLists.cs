using Microsoft.AspNetCore.SignalR.Client;
using SensorHub.Contracts;

namespace SensorHub.Tests.Infrastructure;

/// <summary><c>ListSensors</c> as a client calls it: one page, or every page one after the other.</summary>
public static class SensorLists
{
    /// <summary>One page.</summary>
    public static Task<SensorPage> ListSensorsAsync(this HubConnection hub, SensorQuery? query, CancellationToken cancellationToken = default) =>
        hub.InvokeAsync<SensorPage>(SensorHubMethods.ListSensors, query, cancellationToken).WaitAsync(Timeouts.Default, cancellationToken);

    /// <summary>Every sensor the caller may read whose id starts with <paramref name="prefix"/>, page after page of the largest size.</summary>
    public static async Task<List<SensorInfo>> ListAllSensorsAsync(this HubConnection hub, string? prefix = null, CancellationToken cancellationToken = default)
    {
        var sensors = new List<SensorInfo>();
        string? after = null;
        do
        {
            var page = await hub.ListSensorsAsync(new SensorQuery { Prefix = prefix, After = after, Limit = SensorQuery.MaxLimit }, cancellationToken);
            sensors.AddRange(page.Sensors);
            after = page.Next;
        }
        while (after is not null);
        return sensors;
    }
}
