namespace Resilient.Integrations.Internal;

/// <summary>
/// The time now, read from the system clock at most once per tick of the coarse monotonic clock (a few milliseconds):
/// marks that need no finer time (when a copy was kept, when a service was last seen) cost the success path no clock
/// read, which on a VM costs as much as a pipeline step. Any other <see cref="TimeProvider"/> (a test's) is read every time.
/// </summary>
internal static class CoarseClock
{
    private static Reading? s_last;

    public static long UtcTicks(TimeProvider time)
    {
        if (time != TimeProvider.System)
        {
            return time.GetUtcNow().UtcTicks;
        }

        long tick = Environment.TickCount64;
        var last = Volatile.Read(ref s_last);
        if (last is not null && last.Tick == tick)
        {
            return last.Utc;
        }

        long utc = DateTime.UtcNow.Ticks;
        Volatile.Write(ref s_last, new Reading(tick, utc));
        return utc;
    }

    private sealed record Reading(long Tick, long Utc);
}
