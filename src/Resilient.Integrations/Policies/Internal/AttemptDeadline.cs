using Polly;
using Polly.Timeout;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The attempt timeout of delegate calls. Unlike Polly's, it can be lifted while the attempt runs: when the delegate
/// sends through the integration's own HttpClient, that pipeline times each of its attempts itself, and a deadline
/// here would also cut its retries and backoff waits.
/// </summary>
internal sealed class AttemptDeadlineStrategy(TimeProvider time, TimeSpan timeout) : ResilienceStrategy<object?>
{
    protected override async ValueTask<Outcome<object?>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<object?>>> callback, ResilienceContext context, TState state)
    {
        var outer = context.CancellationToken;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(outer);
        using var deadline = new AttemptDeadline(time, timeout, attempt);
        // Polly's context token cannot be replaced from outside Polly: the delegate reads the attempt's token here.
        var call = CallState.Of(context) ?? throw new InvalidOperationException("A delegate call runs with its CallState.");
        call.Deadline = deadline;
        call.AttemptToken = attempt.Token;
        try
        {
            var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            return deadline.Fired && !outer.IsCancellationRequested && outcome.Exception is { } cut
                ? Outcome.FromException<object?>(new TimeoutRejectedException($"The attempt did not complete within {timeout}.", timeout, cut))
                : outcome;
        }
        finally
        {
            call.Deadline = null;
        }
    }
}

/// <summary>One attempt's deadline: cancels the attempt when it passes, unless lifted first.</summary>
internal sealed class AttemptDeadline : IDisposable
{
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _attempt;
    private int _state; // 0 armed, 1 fired, 2 lifted

    public AttemptDeadline(TimeProvider time, TimeSpan timeout, CancellationTokenSource attempt)
    {
        _attempt = attempt;
        _timer = time.CreateTimer(static s => ((AttemptDeadline)s!).Fire(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    public bool Fired => Volatile.Read(ref _state) == 1;

    /// <summary>Lifts the deadline, unless it already passed.</summary>
    public void Lift()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Fire()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            try
            {
                _attempt.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The attempt ended as the deadline passed.
            }
            catch (AggregateException)
            {
                // A registration (HttpClient's, an SDK's) threw: on a timer thread it would end the process; the
                // attempt still sees its token cancelled.
            }
        }
    }
}
