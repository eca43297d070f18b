namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>
/// Runs calls on a <see cref="VirtualClock"/>: lets real work settle, then jumps to whichever comes first, the
/// next arrival or the next timer. The in-memory upstream never waits, so a pending call is always waiting for
/// a timer (a back-off, a pacing hold) and the jump is what real time would have done.
/// </summary>
internal static class VirtualTimeDriver
{
    /// <summary>Open loop: a call starts every <paramref name="interval"/> for <paramref name="duration"/>, whatever the earlier ones are doing.</summary>
    public static async Task RunOpenLoopAsync(VirtualClock clock, TimeSpan duration, TimeSpan interval, Func<Task> call)
    {
        var start = clock.GetUtcNow();
        var end = start + duration;
        var nextArrival = start;
        var inflight = new List<Task>();
        while (true)
        {
            await SettleAsync(clock, inflight).ConfigureAwait(false);
            inflight.RemoveAll(t => t.IsCompleted);
            var due = clock.NextDue();
            if (nextArrival < end && (due is null || nextArrival <= due))
            {
                clock.AdvanceTo(nextArrival);
                inflight.Add(Task.Run(call));
                nextArrival += interval;
            }
            else if (inflight.Count == 0)
            {
                return;
            }
            else if (due is { } timer)
            {
                clock.AdvanceTo(timer);
            }
        }
    }

    /// <summary>Closed loop: one call at a time; returns how long (virtual) it took.</summary>
    public static async Task<TimeSpan> RunOneAsync(VirtualClock clock, Func<Task> call)
    {
        var started = clock.GetUtcNow();
        var task = Task.Run(call);
        while (!task.IsCompleted)
        {
            await SettleAsync(clock, [task]).ConfigureAwait(false);
            if (!task.IsCompleted && clock.NextDue() is { } due)
            {
                clock.AdvanceTo(due);
            }
        }

        await task.ConfigureAwait(false);
        return clock.GetUtcNow() - started;
    }

    // Real work scheduled by the last jump must reach its next timer before time moves again, or requests meant to
    // be spaced apart would land together: wait until timers stop being created, changed or disposed.
    private static async Task SettleAsync(VirtualClock clock, List<Task> inflight)
    {
        for (int i = 0; i < 100; i++)
        {
            long before = clock.Activity;
            await (inflight.Count == 0 ? Task.Delay(1) : Task.WhenAny(Task.WhenAll(inflight), Task.Delay(1))).ConfigureAwait(false);
            await Task.Yield();
            if (clock.Activity == before && i > 0)
            {
                return;
            }
        }
    }
}
