using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace SensorHub.Server.Hubs;

/// <summary>
/// Keeps a connection alive when a hub method that takes a client-to-server stream ends before the client has sent
/// all of it: a refused upload, a publish stream ended by a lost backend, a call refused by a filter before it read
/// anything.
/// </summary>
/// <remarks>
/// SignalR feeds each client stream into a bounded channel (<c>HubOptions.StreamBufferCapacity</c> items, 10 by
/// default) and waits, in the one loop that reads all of the connection's messages, while that channel is full. When
/// the method ends, SignalR completes the channel; a stream item still waiting to go in then fails with
/// <c>ChannelClosedException</c>, and SignalR closes the whole connection with "Connection closed with an error."
/// (<c>DefaultHubDispatcher.CleanupInvocation</c> and <c>StreamTracker</c> in ASP.NET Core 10). A client that keeps
/// sending after a refusal, as SignalR's clients do until their own stream ends, would lose the connection and never
/// hear the refusal.
/// <para>
/// So, outside every filter but the diagnostics one, once the method (and every filter inside) has ended, this filter reads and drops
/// what the client still sends until the client ends its stream, or sends nothing for <see cref="Quiet"/>, or for
/// <see cref="Longest"/> at most; then it leaves one read pending, which ends when SignalR completes the channel an
/// instant later. A refusal thus reaches a client that goes on sending up to <see cref="Longest"/> late, and one that
/// has stopped <see cref="Quiet"/> late. Items that come after the completion SignalR drops itself (it no longer knows
/// the stream; dotnet/aspnetcore#7070 asks for a message that would tell the client to stop). A client that sends for
/// longer than <see cref="Longest"/> can still meet SignalR's fault, far less often: only if this reader falls a whole
/// buffer behind at the instant SignalR completes the channel.
/// </para>
/// </remarks>
internal sealed class ClientStreamDrainFilter : IHubFilter
{
    /// <summary>How long a stream that has stopped sending is watched for more before the call's answer goes.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the answer waits, at most, for a client that goes on sending: about what it would send in that time is read and dropped.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(2);

    private static readonly ConcurrentDictionary<MethodInfo, Func<object, ValueTask>?[]?> s_drains = new();
    private static readonly MethodInfo s_drain = typeof(ClientStreamDrainFilter).GetMethod(nameof(DrainAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (s_drains.GetOrAdd(invocationContext.HubMethod, DrainsFor) is not { } drains)
            return await next(invocationContext);
        try
        {
            return await next(invocationContext);
        }
        finally
        {
            var arguments = invocationContext.HubMethodArguments;
            for (var i = 0; i < drains.Length; i++)
            {
                if (drains[i] is { } drain && arguments[i] is { } stream)
                    await drain(stream);
            }
        }
    }

    /// <summary>One drain per parameter, set where the parameter is a client stream; <see langword="null"/> when none is.</summary>
    private static Func<object, ValueTask>?[]? DrainsFor(MethodInfo method)
    {
        var parameters = method.GetParameters();
        var drains = new Func<object, ValueTask>?[parameters.Length];
        var any = false;
        for (var i = 0; i < parameters.Length; i++)
        {
            if (HubStreams.ClientStreamItemType(parameters[i].ParameterType) is { } itemType)
            {
                drains[i] = s_drain.MakeGenericMethod(itemType).CreateDelegate<Func<object, ValueTask>>();
                any = true;
            }
        }
        return any ? drains : null;
    }

    /// <summary>
    /// Reads <paramref name="stream"/> until it ends, until nothing more comes for <see cref="Quiet"/>, or for at
    /// most <see cref="Longest"/>; then leaves the pending read to finish in the background. A second enumeration of
    /// SignalR's stream reads the same channel the method read; the method's own is over.
    /// </summary>
    private static async ValueTask DrainAsync<T>(object stream)
    {
        var items = stream as IAsyncEnumerable<T> ?? ((ChannelReader<T>)stream).ReadAllAsync(CancellationToken.None);
        var enumerator = items.GetAsyncEnumerator(CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                var moved = enumerator.MoveNextAsync();
                if (!moved.IsCompleted)
                {
                    // Nothing is waiting now. While the client is still sending, SignalR may complete the channel
                    // with a write waiting, so the client's sending is waited out, within bounds; a stream that is
                    // quiet, or a client that sends for too long, leaves the rest to the read left pending.
                    var next = moved.AsTask();
                    if (Stopwatch.GetElapsedTime(started) >= Longest || await Task.WhenAny(next, Task.Delay(Quiet)) != next)
                    {
                        _ = FinishAsync(enumerator, next);
                        return;
                    }
                    if (!await next)
                        break;
                }
                else if (!moved.GetAwaiter().GetResult())
                {
                    break;
                }
            }
        }
        catch (Exception)
        {
            // The client ended its stream with an error, or the connection went: nothing is left to read.
        }
        await enumerator.DisposeAsync();
    }

    /// <summary>Waits out the pending read and any that follow until the stream ends, however it ends.</summary>
    private static async Task FinishAsync<T>(IAsyncEnumerator<T> enumerator, Task<bool> pending)
    {
        try
        {
            if (await pending)
            {
                while (await enumerator.MoveNextAsync())
                {
                }
            }
        }
        catch (Exception)
        {
            // As above: an error completion or a closed connection ends the stream.
        }
        finally
        {
            await enumerator.DisposeAsync();
        }
    }
}
