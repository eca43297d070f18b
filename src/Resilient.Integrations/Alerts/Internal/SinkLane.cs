using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>
/// One sink's own bounded queue and delivery loop, so that a slow, hanging, blocking or throwing sink delays no
/// other sink. A failing sink is backed off, and what it misses meanwhile reaches it afterwards as one summary.
/// </summary>
internal sealed class SinkLane : IDisposable
{
    /// <summary>The wait after a first failure; it doubles with each failure in a row, up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest a failing sink is left alone.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private readonly IAlertSink _sink;
    private readonly AlertDispatcher _owner;
    private readonly object _gate = new();

    // Under _gate: the queue (alerts and flush markers, in order), how many alerts it holds, what was missed,
    // the loop's wake-up when it waits, and whether the loop has ended.
    private readonly LinkedList<Entry> _queue = new();
    private readonly MissedAlerts _missed = new();
    private int _waitingAlerts;
    private TaskCompletionSource? _wakeUp;
    private bool _closed;

    // The loop's own state, read under _gate too.
    private readonly ITimer _backoffTimer;
    private int _failuresInRow;
    private bool _backedOff; // set by a failure, cleared by the backoff timer: no comparison of two clocks
    private Task? _stuck;

    public SinkLane(IAlertSink sink, AlertDispatcher owner)
    {
        _sink = sink;
        _owner = owner;
        Name = sink.GetType().Name;

        // One timer for the lane's life, created unarmed and armed for each backoff: the end of a backoff wakes the
        // loop, which then sends the summary of what the sink missed even when no new alert comes.
        _backoffTimer = owner.Time.CreateTimer(static s => ((SinkLane)s!).BackoffOver(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Loop = Task.Run(RunAsync);
    }

    private enum Step
    {
        Wait,
        Flushed,
        Missed,
        Summary,
        Deliver,
    }

    /// <summary>Gets the sink's name for logs and metrics: its type's name.</summary>
    public string Name { get; }

    /// <summary>Gets the delivery loop; it ends when the dispatcher stops.</summary>
    public Task Loop { get; }

    /// <summary>Queues an alert for this sink. A full queue drops its oldest alert, which the sink gets in a summary later.</summary>
    public void Enqueue(Alert alert, int capacity)
    {
        Alert? dropped = null;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            if (_waitingAlerts >= capacity)
            {
                for (var node = _queue.First; node is not null; node = node.Next)
                {
                    if (node.Value.Alert is { } oldest)
                    {
                        _queue.Remove(node);
                        _waitingAlerts--;
                        _missed.Add(oldest, _owner.Time.GetUtcNow());
                        dropped = oldest;
                        break;
                    }
                }
            }

            _queue.AddLast(new Entry(alert, null));
            _waitingAlerts++;
            WakeUpLocked();
        }

        if (dropped is not null)
        {
            Log.AlertDropped(_owner.Logger, Name, dropped.Integration, dropped.Kind);
            _owner.Metrics.AlertDropped(dropped.Integration, Name, "queue_full");
        }
    }

    /// <summary>Queues a marker that completes once the loop has dealt with everything queued before it; never dropped.</summary>
    public Task FlushAsync()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return Task.CompletedTask;
            }

            var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.AddLast(new Entry(null, flushed));
            WakeUpLocked();
            return flushed.Task;
        }
    }

    public void Dispose() => _backoffTimer.Dispose();

    private void WakeUp()
    {
        lock (_gate)
        {
            WakeUpLocked();
        }
    }

    private void BackoffOver()
    {
        lock (_gate)
        {
            _backedOff = false;
            WakeUpLocked();
        }
    }

    private void WakeUpLocked()
    {
        var wakeUp = _wakeUp;
        _wakeUp = null;
        wakeUp?.TrySetResult();
    }

    private async Task RunAsync()
    {
        var stopping = _owner.Stopping;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                switch (Next(out var alert, out var flushed, out var summary, out var wakeUp))
                {
                    case Step.Flushed:
                        flushed!.TrySetResult();
                        break;
                    case Step.Missed:
                        Log.AlertMissed(_owner.Logger, Name, alert!.Integration, alert.Kind);
                        _owner.Metrics.AlertDropped(alert.Integration, Name, "sink_unavailable");
                        break;
                    case Step.Summary:
                        await SendSummaryAsync(summary!, stopping).ConfigureAwait(false);
                        break;
                    case Step.Deliver:
                        await DeliverAsync(alert!, stopping).ConfigureAwait(false);
                        break;
                    default:
                        await wakeUp!.WaitAsync(stopping).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Shutting down: a call in flight is abandoned, and what it threw meanwhile no longer matters.
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Decides the loop's next step, atomically with the queue, so that no wake-up can be lost.</summary>
    private Step Next(out Alert? alert, out TaskCompletionSource? flushed, out MissedAlerts? summary, out Task? wakeUp)
    {
        alert = null;
        flushed = null;
        summary = null;
        wakeUp = null;
        lock (_gate)
        {
            // A sink still inside a call given up on is not called again until it returns; one that failed waits out its backoff.
            bool unavailable = _stuck is { IsCompleted: false } || _backedOff;
            var first = _queue.First?.Value;
            if (first?.Flushed is { } marker)
            {
                _queue.RemoveFirst();
                flushed = marker;
                return Step.Flushed;
            }

            if (first?.Alert is { } waiting && unavailable)
            {
                // Given up on at once, so that a flush is not held up: the sink hears of it in the summary.
                _queue.RemoveFirst();
                _waitingAlerts--;
                _missed.Add(waiting, _owner.Time.GetUtcNow());
                alert = waiting;
                return Step.Missed;
            }

            if (!unavailable && _missed.Count > 0)
            {
                summary = _missed.Take();
                return Step.Summary;
            }

            if (first?.Alert is { } next)
            {
                _queue.RemoveFirst();
                _waitingAlerts--;
                alert = next;
                return Step.Deliver;
            }

            _wakeUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wakeUp = _wakeUp.Task;
            return Step.Wait;
        }
    }

    private async Task DeliverAsync(Alert alert, CancellationToken stopping)
    {
        // Logs say what each instance saw; only sinks that reach people are shared.
        if (_owner.Claims is not null && !alert.Unsuppressed && _sink is not LoggingAlertSink)
        {
            var claim = await _owner.ClaimAsync(alert, Name, stopping).ConfigureAwait(false);
            if (!claim.Send)
            {
                _owner.Metrics.AlertSuppressed(alert.Integration, alert.Severity); // another instance sent it to this sink
                return;
            }

            alert = claim.SuppressedElsewhere > 0 ? alert.WithSuppressedCount(alert.SuppressedCount + claim.SuppressedElsewhere) : alert;
        }

        if (await CallAsync(alert, stopping).ConfigureAwait(false) is { } failure)
        {
            lock (_gate)
            {
                _missed.Add(alert, _owner.Time.GetUtcNow());
            }

            Failed(alert, failure);
            return;
        }

        _failuresInRow = 0;
        _owner.Metrics.AlertSent(alert.Integration, alert.Severity);
    }

    private async Task SendSummaryAsync(MissedAlerts missed, CancellationToken stopping)
    {
        var summary = missed.ToAlert(_owner.Time.GetUtcNow());
        if (await CallAsync(summary, stopping).ConfigureAwait(false) is { } failure)
        {
            lock (_gate)
            {
                _missed.Merge(missed);
            }

            Failed(summary, failure);
            return;
        }

        _failuresInRow = 0;
        _owner.Metrics.AlertSent(summary.Integration, summary.Severity);
        Log.AlertsMissedSummarised(_owner.Logger, Name, missed.Count);
    }

    /// <summary>Calls the sink once, bounded by the sink timeout; returns why it failed, or null when it delivered.</summary>
    private async Task<Exception?> CallAsync(Alert alert, CancellationToken stopping)
    {
        var timeout = _owner.CurrentOptions().SinkTimeout;
        // Not the injected clock (see SinkTime): on a test's fake clock it would measure how far the clock was moved
        // while a quick call ran, then back that sink off.
        using var timer = new CancellationTokenSource(timeout, _owner.SinkTime);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, stopping);

        // A thread of its own for each call: a sink that blocks before its first await holds that thread, never the
        // pool's threads that the other sinks' loops run on. The race against the timer, started before the sink,
        // bounds a sink that ignores its token.
        var send = Task.Factory.StartNew(
            static state =>
            {
                var (sink, toSend, token) = ((IAlertSink, Alert, CancellationToken))state!;
                return sink.SendAsync(toSend, token).AsTask();
            },
            (_sink, alert, linked.Token),
            CancellationToken.None,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default).Unwrap();
        var timedOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (linked.Token.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), timedOut))
        {
            if (await Task.WhenAny(send, timedOut.Task).ConfigureAwait(false) != send)
            {
                stopping.ThrowIfCancellationRequested();
                lock (_gate)
                {
                    _stuck = send;
                }

                // When the call given up on returns at last, the sink may be called again.
                _ = send.ContinueWith(
                    static (call, s) =>
                    {
                        _ = call.Exception; // observed: it was reported as a timeout already
                        ((SinkLane)s!).WakeUp();
                    },
                    this,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                return new TimeoutException($"The sink did not finish within {timeout}.");
            }
        }

        try
        {
            await send.ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            return new TimeoutException($"The sink did not finish within {timeout}.");
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            return ex;
        }
    }

    /// <summary>Backs the sink off: 1 s after a first failure, doubling with each failure in a row, at most 5 min.</summary>
    private void Failed(Alert alert, Exception failure)
    {
        _failuresInRow++;
        var backoff = _failuresInRow > 20 ? MaxBackoff : TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << (_failuresInRow - 1)));
        lock (_gate)
        {
            _backedOff = true;
        }

        try
        {
            _backoffTimer.Change(backoff, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            return; // the dispatcher stopped meanwhile
        }

        Log.AlertSinkFailed(
            _owner.Logger, Name, alert.Integration, failure.GetType().Name, SecretRedactor.RedactExceptionMessage(failure), backoff, _failuresInRow);
        _owner.Metrics.AlertSinkFailed(alert.Integration, Name);
    }

    /// <summary>The loop has ended: flushes still waiting complete, nothing more is queued.</summary>
    private void Close()
    {
        List<TaskCompletionSource> flushes;
        lock (_gate)
        {
            _closed = true;
            flushes = [.. _queue.Select(e => e.Flushed).OfType<TaskCompletionSource>()];
            _queue.Clear();
            _waitingAlerts = 0;
        }

        foreach (var flushed in flushes)
        {
            flushed.TrySetResult();
        }
    }

    private sealed record Entry(Alert? Alert, TaskCompletionSource? Flushed);
}
