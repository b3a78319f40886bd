using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using MessagePack;
using SensorHub.Contracts;

namespace SensorHub.Tests.Contracts;

/// <summary>
/// The JavaScript client (<c>clients/js</c>, <c>@sensorhub/client</c>) speaks the contract: its method names, error
/// codes and DTO field names are read from its TypeScript sources and compared with <c>SensorHub.Contracts</c>, both
/// ways, so that a renamed, added or removed method, code or field fails here before it fails a browser.
/// </summary>
public sealed partial class JsClientContractTests
{
    private static readonly string Sources = Path.Combine(RepositoryRoot(), "clients", "js", "src");

    [Fact]
    public void MethodNamesAreTheHubsBothWays()
    {
        var js = ConstObject(File.ReadAllText(Path.Combine(Sources, "methods.ts")), "SensorHubMethods");
        var dotnet = typeof(SensorHubMethods).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!, StringComparer.Ordinal);

        Assert.NotEmpty(dotnet);
        Assert.Equal(dotnet.OrderBy(p => p.Key, StringComparer.Ordinal), js.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void ErrorCodesAreTheServersBothWays()
    {
        var js = ConstObject(File.ReadAllText(Path.Combine(Sources, "errors.ts")), "SensorHubErrorCodes");
        var dotnet = typeof(SensorHubErrors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!, StringComparer.Ordinal);

        Assert.Equal(SensorHubErrors.All.Order(StringComparer.Ordinal), dotnet.Values.Order(StringComparer.Ordinal));
        Assert.Equal(dotnet.OrderBy(p => p.Key, StringComparer.Ordinal), js.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    /// <summary>
    /// Every <c>interface X</c> of types.ts is the contract record <c>X</c> with the same wire names (its <c>[Key]</c>s,
    /// or for <see cref="ServerStats"/>, which only travels as JSON, its <c>[JsonPropertyName]</c>s), and every
    /// MessagePack record of the contract has its interface.
    /// </summary>
    [Fact]
    public void DtoFieldsAreTheContractsWireNamesBothWays()
    {
        var interfaces = Interfaces(File.ReadAllText(Path.Combine(Sources, "types.ts")));
        var contracts = typeof(Reading).Assembly.GetExportedTypes()
            .Where(t => t.GetCustomAttribute<MessagePackObjectAttribute>() is not null || t == typeof(ServerStats))
            .ToDictionary(t => t.Name, WireNames, StringComparer.Ordinal);

        Assert.Equal(contracts.Keys.Order(StringComparer.Ordinal), interfaces.Keys.Where(contracts.ContainsKey).Order(StringComparer.Ordinal));
        Assert.Empty(interfaces.Keys.Except(contracts.Keys, StringComparer.Ordinal));
        foreach (var (name, fields) in interfaces)
            Assert.True(contracts[name].SetEquals(fields), $"types.ts {name} has {{{string.Join(", ", fields.Order(StringComparer.Ordinal))}}}; the contract's {name} has {{{string.Join(", ", contracts[name].Order(StringComparer.Ordinal))}}}.");
    }

    /// <summary>The checks read what they should: a renamed entry would be seen.</summary>
    [Fact]
    public void TheReadersSeeEveryEntry()
    {
        const string methods = """
            export const SensorHubMethods = {
              Subscribe: "Subscribe",
              Renamed: "Subscribe2",
            } as const;
            """;
        Assert.Equal(new Dictionary<string, string> { ["Subscribe"] = "Subscribe", ["Renamed"] = "Subscribe2" }, ConstObject(methods, "SensorHubMethods"));
        const string types = """
            /** A reading. */
            export interface Reading {
              sensorId: string;
              /** Doc. */
              sequence: number;
              timestamp?: Date | null;
            }
            """;
        Assert.Equal(["sensorId", "sequence", "timestamp"], Interfaces(types)["Reading"].Order(StringComparer.Ordinal));
    }

    private static HashSet<string> WireNames(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<KeyAttribute>()?.StringKey ?? p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The <c>Name: "value",</c> entries of <c>export const {name} = { … }</c>.</summary>
    private static Dictionary<string, string> ConstObject(string source, string name)
    {
        var start = source.IndexOf($"export const {name} = {{", StringComparison.Ordinal);
        Assert.True(start >= 0, $"export const {name} not found.");
        var end = source.IndexOf("} as const;", start, StringComparison.Ordinal);
        Assert.True(end > start, $"export const {name} has no end.");
        return ConstEntry().Matches(source[start..end]).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
    }

    /// <summary>Each <c>export interface Name { field: …; }</c> with its field names (doc comments skipped).</summary>
    private static Dictionary<string, HashSet<string>> Interfaces(string source) =>
        Interface().Matches(source).ToDictionary(
            m => m.Groups["name"].Value,
            m => Field().Matches(m.Groups["body"].Value).Select(f => f.Groups["field"].Value).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SensorHub.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException("SensorHub.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("""^\s*(?<key>[A-Za-z0-9_]+):\s*"(?<value>[^"]*)",?\s*$""", RegexOptions.Multiline)]
    private static partial Regex ConstEntry();

    [GeneratedRegex(@"export interface (?<name>\w+) \{(?<body>[^}]*)\}")]
    private static partial Regex Interface();

    [GeneratedRegex(@"^\s*(?<field>\w+)\??:", RegexOptions.Multiline)]
    private static partial Regex Field();
}
