using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SensorHub.Server;

namespace SensorHub.Bench.Serving;

/// <summary>
/// <c>serve sensorhub|baseline [--url U] [--stdin] [--set Key=Value]...</c>: one server under test in a process of its
/// own, so that its CPU and memory are its own and not the load generator's. Prints <c>listening URL</c> once it
/// accepts connections; with <c>--stdin</c> it stops when its standard input closes (the driver's way to stop it, even
/// if the driver dies). Each <c>--set</c> overrides one of SensorHub's settings (the Redis mode's nodes:
/// <c>SensorHub:Redis:Configuration</c>, a shared key prefix, signing key and data folder).
/// </summary>
internal static class BenchServer
{
    public const string ReadyPrefix = "listening ";

    /// <summary>
    /// Both servers' SignalR TransportSendTimeout (10 s by default) and ClientTimeoutInterval (30 s). In a heavy run
    /// the Node load generator falls seconds behind (one pass of its event loop parses what a thousand sockets hold),
    /// sending no ping and reading nothing for that long, and either server closed hundreds of its connections
    /// mid-run; the run then measured the closes, not the delivery.
    /// </summary>
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan ClientTimeout = TimeSpan.FromMinutes(2);

    public static async Task<int> RunAsync(ServerKind kind, string url, bool stopOnStdinClose, IReadOnlyDictionary<string, string> settings)
    {
        var app = kind == ServerKind.SensorHub ? BuildSensorHub(url, settings) : BuildBaseline(url);
        app.MapBenchControl();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine(ReadyPrefix + address);

        var stopping = app.Lifetime.ApplicationStopping;
        if (stopOnStdinClose)
        {
            var stdinClosed = Task.Run(() =>
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            }, CancellationToken.None);
            await Task.WhenAny(stdinClosed, Task.Delay(Timeout.Infinite, stopping));
        }
        else
        {
            await app.WaitForShutdownAsync();
        }
        await app.StopAsync();
        await app.DisposeAsync();
        return 0;
    }

    private static WebApplication BuildSensorHub(string url, IReadOnlyDictionary<string, string> overrides)
    {
        const string DataPathKey = "SensorHub:Uploads:DataPath";
        // A data folder given (shared by the nodes of a cluster) belongs to the driver, which deletes it; one of the
        // server's own goes with the server.
        var ownDataPath = !overrides.ContainsKey(DataPathKey);
        var dataPath = overrides.GetValueOrDefault(DataPathKey) ?? Path.Combine(Path.GetTempPath(), $"sensorhub-bench-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?>
        {
            ["SensorHub:Simulation:Enabled"] = "false",
            ["SensorHub:Auth:AllowAnonymous"] = "true",
            ["SensorHub:Auth:DevTokens"] = "true",
            ["SensorHub:Hub:MaxStreamsPerConnection"] = "100",
            // A device publishing flat out must meet the server's speed, not the per-connection rate a deployment
            // would set (default 10,000 readings/s): the baseline has no such limit either.
            ["SensorHub:Hub:PublishRateLimit"] = "100000000",
            ["SensorHub:Hub:TransportSendTimeout"] = SendTimeout.ToString(),
            [DataPathKey] = dataPath,
        };
        foreach (var (key, value) in overrides)
            settings[key] = value;
        var builder = CreateBuilder(url, settings);
        builder.AddSensorHub();
        builder.Services.AddSingleton<IBenchFeed, SensorHubFeed>();
        var app = builder.Build();
        app.MapSensorHub();
        app.Services.GetRequiredService<StreamEndClock>().Follow(app.Services.GetRequiredService<IMeterFactory>());
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            if (ownDataPath && Directory.Exists(dataPath))
                Directory.Delete(dataPath, recursive: true);
        });
        return app;
    }

    private static WebApplication BuildBaseline(string url)
    {
        var builder = CreateBuilder(url, []);
        builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = 2 * 1024 * 1024).AddJsonProtocol().AddMessagePackProtocol();
        builder.Services.AddSingleton<BaselinePublisher>();
        builder.Services.AddSingleton<IBenchFeed>(s => s.GetRequiredService<BaselinePublisher>());
        var app = builder.Build();
        app.MapHub<BaselineHub>(BaselineHub.Path, connection => connection.TransportSendTimeout = SendTimeout);
        return app;
    }

    private static WebApplicationBuilder CreateBuilder(string url, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        settings["Logging:LogLevel:Default"] = "Error";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls(url);
        builder.Services.Configure<HubOptions>(hub => hub.ClientTimeoutInterval = ClientTimeout);
        builder.Services.AddSingleton<StreamEndClock>();
        builder.Services.AddSingleton<BenchPublisher>();
        builder.Services.AddSingleton<MemorySampler>();
        builder.Services.AddHostedService(s => s.GetRequiredService<MemorySampler>());
        return builder;
    }

    private static void MapBenchControl(this WebApplication app)
    {
        app.MapPost(ControlRoutes.Sensors, async (SensorRegistration request, IBenchFeed feed) =>
        {
            await feed.RegisterAsync(request.SensorId);
            return Results.NoContent();
        });
        app.MapPost(ControlRoutes.PublisherStart, (PublisherStart request, BenchPublisher publisher) =>
        {
            publisher.Start(request);
            return Results.NoContent();
        });
        app.MapPost(ControlRoutes.PublisherStop, async (BenchPublisher publisher) => new PublisherStopped(await publisher.StopAsync()));
        app.MapGet(ControlRoutes.Sample, (bool? gc, IBenchFeed feed, MemorySampler sampler) =>
        {
            if (gc == true)
            {
                for (var i = 0; i < 3; i++)
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                }
            }
            using var process = Process.GetCurrentProcess();
            return new ServerSample(
                Stopwatch.GetTimestamp(),
                feed.ActiveStreams,
                process.TotalProcessorTime.TotalSeconds,
                process.WorkingSet64,
                GC.GetTotalMemory(forceFullCollection: false),
                sampler.PeakWorkingSet,
                sampler.PeakHeap);
        });
        app.MapPost(ControlRoutes.PeaksReset, (MemorySampler sampler) =>
        {
            sampler.Reset();
            return Results.NoContent();
        });
        app.MapGet(ControlRoutes.StreamEnds, (StreamEndClock ends) => ends.Snapshot());
        app.MapPost(ControlRoutes.StreamEndsReset, (StreamEndClock ends) =>
        {
            ends.Reset();
            return Results.NoContent();
        });
    }
}
