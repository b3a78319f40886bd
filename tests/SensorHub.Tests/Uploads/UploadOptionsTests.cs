using SensorHub.Server.Uploads;

namespace SensorHub.Tests.Uploads;

/// <summary>The upload settings' bounds, as the validator that runs at start checks them.</summary>
public sealed class UploadOptionsTests
{
    public static TheoryData<string, Action<UploadOptions>> BadSettings => new()
    {
        { nameof(UploadOptions.MaxBytesPerOwner), o => o.MaxBytesPerOwner = 0 },
        { nameof(UploadOptions.MaxUploadsPerOwner), o => o.MaxUploadsPerOwner = 0 },
        { nameof(UploadOptions.MinFreeDiskBytes), o => o.MinFreeDiskBytes = -1 },
        { nameof(UploadOptions.RetainCompleteFor), o => o.RetainCompleteFor = TimeSpan.FromSeconds(-1) },
        { nameof(UploadOptions.RetainCompleteFor), o => o.RetainCompleteFor = TimeSpan.FromDays(36501) },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void ASettingOutOfItsBoundsFailsValidationWithItsName(string name, Action<UploadOptions> spoil)
    {
        var options = new UploadOptions();
        spoil(options);

        var result = new UploadOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(name, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultsAndTheDocumentedEdgesAreValid()
    {
        var defaults = new UploadOptions();
        var edges = new UploadOptions { RetainCompleteFor = TimeSpan.Zero, MinFreeDiskBytes = 0, MaxUploadsPerOwner = 1, MaxBytesPerOwner = 1 };

        Assert.True(new UploadOptionsValidator().Validate(null, defaults).Succeeded);
        Assert.True(new UploadOptionsValidator().Validate(null, edges).Succeeded);
        Assert.Equal(
            (TimeSpan.FromDays(30), 10L * 1024 * 1024 * 1024, 1_000, 1024L * 1024 * 1024),
            (defaults.RetainCompleteFor, defaults.MaxBytesPerOwner, defaults.MaxUploadsPerOwner, defaults.MinFreeDiskBytes));
    }
}
