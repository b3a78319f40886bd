namespace SensorHub.Server.Uploads;

/// <summary>An upload request that the caller got wrong; the message says what.</summary>
public sealed class UploadException(string code, string message) : SensorHubException(code, message);
