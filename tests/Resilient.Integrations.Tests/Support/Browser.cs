using Microsoft.Playwright;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A real headless browser: the system's chromium (Debian's package, or the one in RESILIENT_CHROMIUM), driven by
/// Playwright with no browser download. Skips without one, or fails under CI, where a skip hides a gap.
/// </summary>
internal static class Browser
{
    public static string RequireChromium()
    {
        string? path = Environment.GetEnvironmentVariable("RESILIENT_CHROMIUM") is { Length: > 0 } configured
            ? configured
            : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        if (path is null || !File.Exists(path))
        {
            LocalServers.SkipOrFail("no chromium found (RESILIENT_CHROMIUM or /usr/bin/chromium), install it: apt-get install chromium");
        }

        return path;
    }

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        string chromium = RequireChromium();
        var playwright = await Playwright.CreateAsync();
        try
        {
            return (playwright, await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true }));
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}
