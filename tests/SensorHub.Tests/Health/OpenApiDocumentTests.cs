using System.Net;
using System.Text.Json;
using SensorHub.Contracts;
using SensorHub.Tests.Infrastructure;

namespace SensorHub.Tests.Health;

/// <summary><c>/openapi/v1.json</c> is served to anyone and describes every HTTP endpoint the node answers, and no other.</summary>
public sealed class OpenApiDocumentTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheDocumentListsEveryHttpEndpointWithASummaryAndItsResponses(bool devTokens)
    {
        await using var app = new SensorHubApplication(settings: new Dictionary<string, string?>
        {
            ["SensorHub:Auth:DevTokens"] = devTokens ? "true" : "false",
            ["SensorHub:Auth:AllowAnonymous"] = "false",
        });
        using var client = app.CreateHttpClient();

        using var response = await client.GetAsync(SensorHubRoutes.OpenApi).WaitAsync(Timeouts.Default);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var root = document.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Equal("SensorHub", root.GetProperty("info").GetProperty("title").GetString());
        var expected = new Dictionary<string, (string Method, string[] Codes)>
        {
            [SensorHubRoutes.Stats] = ("get", ["200", "401"]),
            [SensorHubRoutes.HealthLive] = ("get", ["200"]),
            [SensorHubRoutes.Health] = ("get", ["200"]),
            [SensorHubRoutes.Ready] = ("get", ["200", "503"]),
        };
        if (devTokens)
            expected[SensorHubRoutes.DevToken] = ("post", ["200", "400"]);
        // Where the Prometheus scrape is mapped, it is listed too.
        var metricsOn = (await client.GetAsync(SensorHubRoutes.Metrics)).StatusCode == HttpStatusCode.OK;
        if (metricsOn)
            expected[SensorHubRoutes.Metrics] = ("get", ["200"]);

        var paths = root.GetProperty("paths");
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (path, (method, codes)) in expected)
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{path} has no summary.");
            Assert.Equal(codes, operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
            var ok = operation.GetProperty("responses").GetProperty("200");
            Assert.True(ok.TryGetProperty("content", out var content) && content.EnumerateObject().Any(), $"{path}'s 200 has no content type.");
        }
        var schemas = root.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty(nameof(ServerStats), out _));
        Assert.True(schemas.TryGetProperty("HealthAnswer", out _));
    }
}
