using System.Runtime.CompilerServices;
using Polly;
using Polly.Telemetry;
using Polly.Timeout;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// A deadline over a Polly context's token, scoped as Polly's own timeout strategy scopes it: while it runs the context
/// carries a token that the deadline or the outer token cancels, and it gets the outer token back at the end. It lets
/// one of our strategies own a timeout, where a timeout strategy of its own would cost every call a pipeline step.
/// </summary>
/// <remarks>
/// Only Polly may replace a context's token (the setter is internal); <see cref="IsAvailable"/> says whether this Polly
/// still has that setter, and the pipeline falls back to Polly's timeout strategies when it does not.
/// </remarks>
internal readonly struct ContextDeadline
{
    // CancelAfter's limit; a longer deadline is no deadline.
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    // A call nests two deadlines (the total and the attempt's): two spares per thread keep both off the heap.
    [ThreadStatic]
    private static DeadlineSource? t_spare;

    [ThreadStatic]
    private static DeadlineSource? t_spare2;

    private readonly ResilienceContext _context;
    private readonly CancellationTokenSource? _source;
    private readonly CancellationToken _outer;
    private readonly CancellationTokenRegistration _link;
    private readonly DeadlineSource? _pooled;

    private ContextDeadline(ResilienceContext context, CancellationTokenSource source, CancellationToken outer, DeadlineSource? pooled)
    {
        _context = context;
        _source = source;
        _outer = outer;
        _pooled = pooled;
        _link = outer.CanBeCanceled ? outer.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source) : default;
        SetToken(context, source.Token);
    }

    /// <summary>Gets the reusable source of a scope on the system clock, for tests.</summary>
    internal DeadlineSource? Pooled => _pooled;

    /// <summary>Gets a value indicating whether a context's token can be scoped here (this Polly has the setter).</summary>
    public static bool IsAvailable { get; } = Probe();

    /// <summary>Starts a deadline of <paramref name="timeout"/> on the context's token; none when it is not positive or too long.</summary>
    public static ContextDeadline Start(ResilienceContext context, TimeSpan timeout, TimeProvider time)
    {
        if (timeout <= TimeSpan.Zero || timeout >= Longest)
        {
            return default;
        }

        var outer = context.CancellationToken;
        if (time == TimeProvider.System)
        {
            // A source reset after use keeps its timer: the success path makes neither again.
            DeadlineSource pooled;
            if (t_spare is { } spare)
            {
                (pooled, t_spare) = (spare, null);
            }
            else if (t_spare2 is { } second)
            {
                (pooled, t_spare2) = (second, null);
            }
            else
            {
                pooled = new DeadlineSource();
            }

            pooled.Arm(timeout);
            return new ContextDeadline(context, pooled.Source, outer, pooled);
        }

        // Made unarmed and then armed, as Polly's timeout arms its sources: a test clock sees a deadline, not a wait.
        var timed = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        timed.CancelAfter(timeout);
        return new ContextDeadline(context, timed, outer, pooled: null);
    }

    /// <summary>Ends the scope, giving the context its outer token back; true when the deadline, not the outer token, cut the work short.</summary>
    public bool End()
    {
        if (_source is null)
        {
            return false;
        }

        bool fired = _source.IsCancellationRequested && !_outer.IsCancellationRequested;
        SetToken(_context, _outer);
        _link.Dispose();
        if (_pooled is null)
        {
            _source.Dispose();
            return fired;
        }

        // A source the timer claimed is cancelled, or about to be, on the timer's thread: never reused, never disposed under it.
        bool unclaimed = _pooled.Disarm();
        if (unclaimed && (t_spare is null || t_spare2 is null) && _source.TryReset())
        {
            if (t_spare is null)
            {
                t_spare = _pooled;
            }
            else
            {
                t_spare2 = _pooled;
            }
        }
        else
        {
            _pooled.Drop(disposeSource: unclaimed);
        }

        return fired;
    }

    /// <summary>
    /// What a deadline that fired makes of the outcome: an operation cancelled by it becomes a <see cref="TimeoutRejectedException"/>,
    /// reported as Polly's timeout strategy reports one, so telemetry and the classifier see what they saw before.
    /// </summary>
    public static Outcome<T> TimedOut<T>(Outcome<T> outcome, ResilienceContext context, TimeSpan timeout, ResilienceStrategyTelemetry telemetry, string what)
    {
        if (outcome.Exception is not OperationCanceledException cancelled)
        {
            return outcome;
        }

        telemetry.Report(new ResilienceEvent(ResilienceEventSeverity.Error, "OnTimeout"), context, new OnTimeoutArguments(context, timeout));
        var timedOut = new TimeoutRejectedException($"The {what} did not complete within the allowed timeout of '{timeout}'.", timeout, cancelled);
        telemetry.SetTelemetrySource(timedOut);
        return Outcome.FromException<T>(timedOut);
    }

    /// <summary>
    /// An operation cancelled by the outer token carries that token, as Polly's timeout hands it on: not the scope's
    /// own, which is reset and reused once the scope ends.
    /// </summary>
    public static Outcome<T> ForCaller<T>(Outcome<T> outcome, CancellationToken outer) =>
        outcome.Exception is OperationCanceledException cancelled && outer.IsCancellationRequested && cancelled.CancellationToken != outer
            ? Outcome.FromException<T>(new OperationCanceledException(cancelled.Message, cancelled, outer))
            : outcome;

    private static bool Probe()
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            using var source = new CancellationTokenSource();
            SetToken(context, source.Token);
            return context.CancellationToken == source.Token;
        }
        catch (MissingMethodException)
        {
            return false;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_CancellationToken")]
    private static extern void SetToken(ResilienceContext context, CancellationToken token);
}
