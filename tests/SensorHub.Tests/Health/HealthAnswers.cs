using System.Net;
using System.Text.Json;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Health;

/// <summary>A health endpoint's answer as a client reads it: the status code, the overall status and each check's.</summary>
public sealed record HealthAnswer(HttpStatusCode Code, string Status, IReadOnlyDictionary<string, (string Status, string? Description)> Checks, string Body)
{
    public static async Task<HealthAnswer> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path).WaitAsync(Timeouts.Default);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var checks = json.RootElement.GetProperty("checks").EnumerateObject().ToDictionary(
            c => c.Name,
            c => (c.Value.GetProperty("status").GetString()!, c.Value.TryGetProperty("description", out var d) ? d.GetString() : null));
        return new HealthAnswer(response.StatusCode, json.RootElement.GetProperty("status").GetString()!, checks, body);
    }

    /// <summary>Asks <c>/healthz/ready</c> until it answers <paramref name="code"/>; fails after <paramref name="within"/> (default: <see cref="Timeouts.Default"/>).</summary>
    public static async Task<HealthAnswer> WaitForReadyAsync(HttpClient client, HttpStatusCode code, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Timeouts.Default);
        while (true)
        {
            var answer = await GetAsync(client, SensorHubRoutes.Ready);
            if (answer.Code == code)
                return answer;
            Assert.True(DateTime.UtcNow < deadline, $"/healthz/ready still answers {(int)answer.Code} {answer.Body}, not {(int)code}.");
            await Task.Delay(50);
        }
    }

    /// <summary>The names of the checks that fail.</summary>
    public IEnumerable<string> Failing => Checks.Where(c => c.Value.Status != "Healthy").Select(c => c.Key).Order(StringComparer.Ordinal);
}
