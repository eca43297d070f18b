namespace Resilient.Integrations.Internal;

/// <summary>How long to wait on a server's "retry after" so the next request reaches it after its moment, not before.</summary>
internal static class ServerHint
{
    /// <summary>
    /// Timers fire on the coarse tick (4 ms on Linux, 15.6 ms on Windows) and may end up to a tick before the precise
    /// moment; a request that arrives a few milliseconds before the server's reset is refused again and wastes the
    /// retry. One Windows tick more than the hint is negligible against any real reset and covers both.
    /// </summary>
    public static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(16);

    /// <summary>The wait that honours <paramref name="hint"/>: the hint plus <see cref="TimerSlack"/>.</summary>
    public static TimeSpan Wait(TimeSpan hint) => hint + TimerSlack;
}
