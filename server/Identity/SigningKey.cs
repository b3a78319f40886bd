using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace SensorHub.Server.Identity;

/// <summary>The key the server signs its own tokens with (dev tokens) and checks them against.</summary>
internal sealed class SigningKey(IOptions<AuthOptions> options)
{
    public SymmetricSecurityKey Key { get; } = new(
        options.Value.SigningKey is { } configured ? Encoding.UTF8.GetBytes(configured) : RandomNumberGenerator.GetBytes(32));

    public bool IsEphemeral { get; } = options.Value.SigningKey is null;

    public SigningCredentials Credentials => new(Key, SecurityAlgorithms.HmacSha256);
}
