using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that records every timer created, so tests can see the waits the library
/// took (retry backoff, pacing holds) and advance time straight to the next pending one.
/// </summary>
public sealed class TestClock : FakeTimeProvider
{
    private readonly List<TrackedTimer> _timers = [];
    private readonly List<TrackedTimer> _unarmed = [];

    public TestClock(DateTimeOffset start)
        : base(start)
    {
    }

    /// <summary>
    /// Timer durations that are deadlines (timeouts) rather than waits; they are neither recorded nor jumped to. The
    /// library's own deadlines (<see cref="AttemptDeadline"/>: a delegate attempt's, what is left of a call's budget
    /// for its body) are recognised whatever their duration.
    /// </summary>
    public HashSet<TimeSpan> Deadlines { get; } = [];

    /// <summary>Every wait started, in order.</summary>
    public List<TimeSpan> Waits
    {
        get
        {
            lock (_timers)
            {
                return [.. _timers.Where(t => !IsDeadline(t)).Select(t => t.Duration)];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(this, base.CreateTimer(callback, state, dueTime, period), GetUtcNow() + dueTime, dueTime) { IsDeadline = state is AttemptDeadline };
        lock (_timers)
        {
            (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan ? _timers : _unarmed).Add(timer);
        }

        return timer;
    }

    /// <summary>
    /// Whether a timer created unarmed (a watchdog) is now armed to fire <paramref name="dueTime"/> from now: once this
    /// is true, advancing the clock by <paramref name="dueTime"/> fires it.
    /// </summary>
    public bool HasWatchdogArmedFor(TimeSpan dueTime)
    {
        lock (_timers)
        {
            var due = GetUtcNow() + dueTime;
            return _unarmed.Any(t => !t.Disposed && t.ArmedDue == due);
        }
    }

    /// <summary>How many live timers fire at <paramref name="due"/> (several instances on one clock each set their own).</summary>
    public int TimersDueAt(DateTimeOffset due)
    {
        lock (_timers)
        {
            return _timers.Count(t => !t.Disposed && t.Due == due);
        }
    }

    /// <summary>Whether a live timer (wait or deadline) is due exactly at <paramref name="due"/>: a loop has scheduled its next turn.</summary>
    public bool HasTimerDueAt(DateTimeOffset due) => TimersDueAt(due) > 0;

    /// <summary>Whether a library deadline (<see cref="AttemptDeadline"/>) is live: a delegate attempt or a response body is being timed.</summary>
    public bool HasLiveDeadline()
    {
        lock (_timers)
        {
            return _timers.Any(t => t.IsDeadline && !t.Disposed);
        }
    }

    /// <summary>Advances to the earliest pending wait, if there is one.</summary>
    public bool AdvanceToNextWait()
    {
        DateTimeOffset? next;
        lock (_timers)
        {
            var now = GetUtcNow();
            next = _timers.Where(t => !t.Disposed && t.Due > now && !IsDeadline(t)).Select(t => (DateTimeOffset?)t.Due).Min();
        }

        if (next is { } due)
        {
            Advance(due - GetUtcNow());
            return true;
        }

        return false;
    }

    /// <summary>
    /// Lets real I/O run and jumps over the library's waits until the task completes. Real time bounds only a
    /// hang (<see cref="Eventually.Deadline"/>): on a loaded machine the I/O may take long, the waits never do.
    /// </summary>
    public async Task<T> RunAsync<T>(Task<T> task)
    {
        var elapsed = Stopwatch.StartNew();
        while (!task.IsCompleted)
        {
            if (elapsed.Elapsed > Eventually.Deadline)
            {
                throw new TimeoutException($"The call did not complete within {Eventually.Deadline.TotalSeconds:0} s of real time, though the test clock jumped over every wait.");
            }

            await Task.WhenAny(task, Task.Delay(2));
            if (!task.IsCompleted)
            {
                AdvanceToNextWait();
            }
        }

        return await task;
    }

    public async Task RunAsync(Task task) => await RunAsync(task.ContinueWith(t => { t.GetAwaiter().GetResult(); return 0; }, TaskScheduler.Default));

    private bool IsDeadline(TrackedTimer timer) => timer.IsDeadline || Deadlines.Contains(timer.Duration);

    private sealed class TrackedTimer(TestClock clock, ITimer inner, DateTimeOffset due, TimeSpan duration) : ITimer
    {
        private volatile bool _disposed;
        private volatile StrongBox<DateTimeOffset>? _armedDue;

        public bool IsDeadline { get; init; }

        public DateTimeOffset Due { get; } = due;

        public TimeSpan Duration { get; } = duration;

        public bool Disposed
        {
            get => _disposed;
            private set => _disposed = value;
        }

        /// <summary>When the last <see cref="Change"/> set it to fire, for a timer armed and disarmed over and over; null while disarmed.</summary>
        public DateTimeOffset? ArmedDue => _armedDue?.Value;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // Published only once the inner timer is armed: a test that sees it may advance the clock at once,
            // and an advance that came before the inner Change would push the timer's due time along with it.
            bool changed = inner.Change(dueTime, period);
            _armedDue = dueTime == Timeout.InfiniteTimeSpan ? null : new(clock.GetUtcNow() + dueTime);
            return changed;
        }

        public void Dispose()
        {
            Disposed = true;
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return inner.DisposeAsync();
        }
    }
}
