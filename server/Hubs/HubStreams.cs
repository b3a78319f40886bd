using System.Reflection;
using System.Threading.Channels;

namespace SensorHub.Server.Hubs;

/// <summary>Which hub methods stream, and which way: read from their signatures as SignalR reads them.</summary>
internal static class HubStreams
{
    /// <summary>The item type of a server-to-client stream the method returns, or <see langword="null"/>.</summary>
    public static Type? ServerStreamItemType(MethodInfo method)
    {
        var type = method.ReturnType;
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>) ? type.GetGenericArguments()[0] : null;
    }

    /// <summary>Whether the method takes a client-to-server stream (an <c>IAsyncEnumerable&lt;T&gt;</c> or <c>ChannelReader&lt;T&gt;</c> argument).</summary>
    public static bool TakesClientStream(MethodInfo method) =>
        method.GetParameters().Any(p => ClientStreamItemType(p.ParameterType) is not null);

    /// <summary>The item type of a client-to-server stream parameter of this type, or <see langword="null"/> when it is none.</summary>
    public static Type? ClientStreamItemType(Type parameterType) =>
        parameterType.IsGenericType
        && parameterType.GetGenericTypeDefinition() is var definition
        && (definition == typeof(IAsyncEnumerable<>) || definition == typeof(ChannelReader<>))
            ? parameterType.GetGenericArguments()[0]
            : null;
}
