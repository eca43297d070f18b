using System.Diagnostics;

namespace Resilient.Integrations.Tests.Support;

/// <summary>Runs tests/Resilient.Integrations.CrashHelper as a child process that the crash tests kill in the middle of replay.</summary>
internal static class CrashHelperProcess
{
    /// <summary>Starts the helper: <c>mode database url count</c> (see its Program.cs).</summary>
    public static Process Start(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory.Replace("Resilient.Integrations.Tests", "Resilient.Integrations.CrashHelper", StringComparison.Ordinal), "Resilient.Integrations.CrashHelper.dll");
        Assert.True(File.Exists(dll), $"helper not built: {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>Waits until the helper has done what <paramref name="condition"/> observes; fails if it exits first.</summary>
    public static async Task WaitForAsync(Func<bool> condition, Process process)
    {
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited)
            {
                Assert.Fail("the helper exited early: " + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
            }

            // Starting a process on a loaded machine can take long: the deadline only tells a helper that hangs.
            Assert.True(elapsed.Elapsed < Eventually.Deadline, "the helper did not start replaying");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
