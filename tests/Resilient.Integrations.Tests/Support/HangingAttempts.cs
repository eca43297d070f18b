namespace Resilient.Integrations.Tests.Support;

/// <summary>Drives a call whose every attempt hangs until its deadline passes on the fake clock.</summary>
internal static class HangingAttempts
{
    /// <summary>
    /// Once an attempt's request has arrived (<paramref name="started"/> grew; count requests, not connections: a retry
    /// may reuse the connection of an attempt cut before it sent anything), moves the clock past its
    /// <paramref name="deadline"/>; in between, jumps over the backoff waits. Returns what the call threw.
    /// </summary>
    public static async Task<Exception?> RunAsync(Task call, TestClock clock, Func<int> started, TimeSpan deadline)
    {
        int timedOut = 0;
        for (int i = 0; i < 20_000 && !call.IsCompleted; i++)
        {
            await Task.WhenAny(call, Task.Delay(5, TestContext.Current.CancellationToken));
            if (started() > timedOut)
            {
                timedOut++;
                clock.Advance(deadline);
            }
            else
            {
                clock.AdvanceToNextWait();
            }
        }

        return await Record.ExceptionAsync(() => call);
    }
}
