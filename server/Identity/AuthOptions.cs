using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SensorHub.Server.Identity;

/// <summary>Who may connect and how tokens are checked, bound from <c>SensorHub:Auth</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "SensorHub:Auth";

    /// <summary>
    /// The HMAC-SHA256 key tokens are signed with, at least 32 characters. Default none: with no
    /// <see cref="Authority"/> either, the server makes a random key at start, so its tokens end with the process.
    /// </summary>
    [MinLength(32)]
    public string? SigningKey { get; set; }

    /// <summary>An external OpenID Connect authority whose tokens are accepted instead of the server's own. Default none.</summary>
    public string? Authority { get; set; }

    /// <summary>The issuer tokens must carry. Default <c>sensorhub</c>.</summary>
    [Required]
    public string Issuer { get; set; } = "sensorhub";

    /// <summary>The audience tokens must carry. Default <c>sensorhub</c>.</summary>
    [Required]
    public string Audience { get; set; } = "sensorhub";

    /// <summary>Whether callers without a token may connect, as viewers named <c>guest-…</c>. Default off; on in Development.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Whether <c>POST /api/dev/token</c> hands out tokens to anyone who asks. Default off; on in Development.</summary>
    public bool DevTokens { get; set; }

    /// <summary>How long a dev token lasts. Default 12 hours.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(12);
}

[OptionsValidator]
internal sealed partial class AuthOptionsValidator : IValidateOptions<AuthOptions>;
