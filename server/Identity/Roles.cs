namespace SensorHub.Server.Identity;

/// <summary>The roles a token can carry, and what each may do.</summary>
public static class Roles
{
    /// <summary>Subscribes, lists sensors, downloads, joins the sessions open to it.</summary>
    public const string Viewer = "viewer";

    /// <summary>A viewer that also publishes, uploads, creates sessions and annotates.</summary>
    public const string Operator = "operator";

    /// <summary>Publishes and uploads only.</summary>
    public const string Device = "device";

    /// <summary>Everything, including ending any session and seeing every upload.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Viewer, Operator, Device, Admin];

    // Made once: every hub call asks. Read-only wrappers, so that no caller can change them for all.
    private static readonly IReadOnlyList<string> s_read = Array.AsReadOnly(new[] { Viewer, Operator, Admin });
    private static readonly IReadOnlyList<string> s_publish = Array.AsReadOnly(new[] { Operator, Device, Admin });
    private static readonly IReadOnlyList<string> s_collaborate = Array.AsReadOnly(new[] { Operator, Admin });
    private static readonly IReadOnlyList<string> s_admin = Array.AsReadOnly(new[] { Admin });

    /// <summary>The roles that grant <paramref name="permission"/>.</summary>
    public static IReadOnlyList<string> Granting(Permission permission) => permission switch
    {
        Permission.Read => s_read,
        Permission.Publish => s_publish,
        Permission.Collaborate => s_collaborate,
        _ => s_admin,
    };
}

/// <summary>What a hub method needs its caller to be allowed.</summary>
public enum Permission
{
    /// <summary>Subscribe, list sensors, download, join sessions.</summary>
    Read,

    /// <summary>Publish readings and upload.</summary>
    Publish,

    /// <summary>Create sessions, annotate, change a session's sensors.</summary>
    Collaborate,

    /// <summary>Everything.</summary>
    Administer,
}
