using Resilient.Integrations.Fallback.Internal;

namespace Resilient.Integrations.Tests.Fallback;

public sealed class HumaneAgeTests
{
    [Theory]
    [InlineData(0, "just now")]
    [InlineData(59, "just now")]
    [InlineData(60, "1 minute ago")]
    [InlineData(5 * 60 + 30, "5 minutes ago")]
    [InlineData(3600, "1 hour ago")]
    [InlineData(6 * 3600 + 59 * 60, "6 hours ago")]
    [InlineData(24 * 3600, "1 day ago")]
    [InlineData(49 * 3600, "2 days ago")]
    public void Describe_Age_ReadsLikePeopleSayIt(int seconds, string expected)
    {
        Assert.Equal(expected, HumaneAge.Describe(TimeSpan.FromSeconds(seconds)));
    }
}
