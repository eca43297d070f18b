using Resilient.Integrations.Classification.Internal;

namespace Resilient.Integrations.Tests.Classification;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("20ms", 20)]
    [InlineData("1s", 1000)]
    [InlineData("6m0s", 360_000)]
    [InlineData("51.189s", 51_189)]
    [InlineData("1h2m3s", 3_723_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("1500\u00b5s", 1.5)]
    [InlineData("0", 0)]
    public void TryParse_GoDuration_Parses(string text, double expectedMs)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1s")]
    [InlineData("5")]
    [InlineData("5 minutes")]
    [InlineData("1d")]
    [InlineData("s")]
    [InlineData("1..2s")]
    public void TryParse_Garbage_Refuses(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }
}
