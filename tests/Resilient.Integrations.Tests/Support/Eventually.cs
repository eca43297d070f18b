using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// Real-time waits for background work (dispatcher, scheduler, replay) to reach a state. Their one deadline only
/// tells a hang from a slow machine: it is generous, so a loaded machine never trips it, and no test asserts how
/// long anything took. Time the library waits for runs on the test clock, never on this one.
/// </summary>
internal static class Eventually
{
    /// <summary>How long a real-time wait may last before the test counts it as hung.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static async Task WaitUntilAsync(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        var elapsed = Stopwatch.StartNew();
        while (!condition())
        {
            if (elapsed.Elapsed > Deadline)
            {
                Assert.Fail($"not reached within {Deadline.TotalSeconds:0} s of real time: {what}");
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A cancellation source that fires after <see cref="Deadline"/>, or with the test.</summary>
    public static CancellationTokenSource Bounded()
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(Deadline);
        return source;
    }
}
