namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// A reusable cancellation source for <see cref="ContextDeadline"/> on the system clock, with a timer of its own that
/// is armed lazily: a scope only writes its due time, and the timer, when it fires early for a later scope, arms itself
/// again for the rest. A call's two deadlines cost a clock tick read each instead of two timer-queue registrations
/// (arm, then disarm on reset), each under the queue's lock.
/// </summary>
internal sealed class DeadlineSource
{
    private const long Idle = long.MaxValue;    // no scope running
    private const long Claimed = long.MinValue; // the timer found the scope due: it cancels (or cancelled) the source

    private readonly Timer _timer;
    private long _due = Idle;  // Environment.TickCount64 at which the running scope times out
    private long _armedFor;    // when the timer fires next; 0: not armed

    public DeadlineSource()
    {
        // Nothing of the call that makes it is captured (its activity, its scopes): the timer outlives the call.
        bool suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            _timer = new Timer(static state => ((DeadlineSource)state!).Fire(), this, Timeout.Infinite, Timeout.Infinite);
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    public CancellationTokenSource Source { get; } = new();

    /// <summary>Gets when the timer fires next (Environment.TickCount64; 0 when it is not armed), for tests.</summary>
    internal long ArmedFor => Interlocked.Read(ref _armedFor);

    /// <summary>Starts a scope that cancels <see cref="Source"/> once <paramref name="timeout"/> has passed.</summary>
    public void Arm(TimeSpan timeout)
    {
        // Rounded up, as the timer queue's ticks are whole milliseconds: never early.
        long now = Environment.TickCount64;
        long due = now + (long)Math.Ceiling(timeout.TotalMilliseconds);
        Interlocked.Exchange(ref _due, due);

        // Read after the due time is written, as the timer writes "not armed" before it reads the due time: one of the
        // two always sees the other's write, so a scope never runs without a timer that will reach it.
        // Armed for a time already past: the timer may run on a clock that stood still meanwhile (Windows' timer queue
        // does not count a sleep), so it is armed afresh rather than trusted to fire soon.
        if (NeedsArming(Interlocked.Read(ref _armedFor), due, now))
        {
            Schedule(due);
        }
    }

    /// <summary>Ends the scope; false when the timer claimed it first (the source is being or was cancelled: not reusable).</summary>
    public bool Disarm() => Interlocked.Exchange(ref _due, Idle) != Claimed;

    /// <summary>Gives the source up for good.</summary>
    /// <param name="disposeSource">False while the timer may still be cancelling the source.</param>
    public void Drop(bool disposeSource)
    {
        // Under the timer's lock: a firing that read a running scope re-arms the timer before it is disposed, never after.
        lock (_timer)
        {
            _timer.Dispose();
        }

        if (disposeSource)
        {
            Source.Dispose();
        }
    }

    private void Schedule(long due)
    {
        lock (_timer)
        {
            if (!NeedsArming(_armedFor, due, Environment.TickCount64))
            {
                return; // armed sooner already: it will find this scope's due time and re-arm
            }

            Volatile.Write(ref _armedFor, due);
            _timer.Change(Math.Max(0, due - Environment.TickCount64), Timeout.Infinite);
        }
    }

    /// <summary>Not armed, armed later than <paramref name="due"/>, or armed for a time already past (see <see cref="Arm"/>).</summary>
    private static bool NeedsArming(long armed, long due, long now) => armed == 0 || armed > due || armed < now;

    private void Fire()
    {
        lock (_timer)
        {
            Interlocked.Exchange(ref _armedFor, 0);
            while (true)
            {
                long due = Interlocked.Read(ref _due);
                if (due is Idle or Claimed)
                {
                    return;
                }

                long now = Environment.TickCount64;
                if (now < due)
                {
                    // Fired for an earlier scope, or a tick early: armed again for what is left of this one.
                    Volatile.Write(ref _armedFor, due);
                    _timer.Change(due - now, Timeout.Infinite);
                    return;
                }

                if (Interlocked.CompareExchange(ref _due, Claimed, due) == due)
                {
                    break;
                }
            }
        }

        Source.Cancel(); // outside the lock: the token's callbacks run here
    }
}
