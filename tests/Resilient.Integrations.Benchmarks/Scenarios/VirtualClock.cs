using Microsoft.Extensions.Time.Testing;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>
/// Virtual time for the scenario benchmarks: a fake clock that knows its pending timers, so a driver can jump
/// straight to the next one. Back-offs of seconds cost nothing real, and latency is the time a caller would
/// really wait (the in-memory upstream itself answers in no time).
/// </summary>
internal sealed class VirtualClock() : FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero))
{
    private readonly List<Tracked> _timers = [];
    private long _activity;

    /// <summary>Counts timers created, changed and disposed: while it moves, work is still running.</summary>
    public long Activity => Interlocked.Read(ref _activity);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _activity);
        var timer = new Tracked(this, base.CreateTimer(callback, state, dueTime, period), dueTime, period);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    /// <summary>The earliest moment a live timer fires, if any.</summary>
    public DateTimeOffset? NextDue()
    {
        var now = GetUtcNow();
        DateTimeOffset? next = null;
        lock (_timers)
        {
            _timers.RemoveAll(t => t.Disposed || (t.Due is { } due && due <= now && t.Period <= TimeSpan.Zero));
            foreach (var timer in _timers)
            {
                if (timer.Due is not { } due)
                {
                    continue;
                }

                while (due <= now && timer.Period > TimeSpan.Zero)
                {
                    due += timer.Period;
                }

                if (due > now && (next is null || due < next))
                {
                    next = due;
                }
            }
        }

        return next;
    }

    /// <summary>Moves time forward to <paramref name="moment"/> (never back).</summary>
    public void AdvanceTo(DateTimeOffset moment)
    {
        var step = moment - GetUtcNow();
        if (step > TimeSpan.Zero)
        {
            Advance(step);
        }
    }

    private sealed class Tracked : ITimer
    {
        private readonly VirtualClock _clock;
        private readonly ITimer _inner;

        public Tracked(VirtualClock clock, ITimer inner, TimeSpan dueTime, TimeSpan period)
        {
            _clock = clock;
            _inner = inner;
            Set(dueTime, period);
        }

        public DateTimeOffset? Due { get; private set; }

        public TimeSpan Period { get; private set; }

        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _clock._activity);
            Set(dueTime, period);
            return _inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            Interlocked.Increment(ref _clock._activity);
            Disposed = true;
            _inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref _clock._activity);
            Disposed = true;
            return _inner.DisposeAsync();
        }

        private void Set(TimeSpan dueTime, TimeSpan period)
        {
            Due = dueTime == Timeout.InfiniteTimeSpan ? null : _clock.GetUtcNow() + dueTime;
            Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
        }
    }
}
