using Polly;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Policies;

/// <summary>
/// The deadline the outcome and attempt steps scope over Polly's context token, in place of Polly's two timeout
/// strategies: it must cut the work at its time, tell its own cut from the caller's, and give the token back.
/// </summary>
public sealed class ContextDeadlineTests
{
    [Fact]
    public void IsAvailable_ThisPolly_ContextTokenCanBeScoped()
    {
        // Polly's setter gone would silently put two strategies back on every call: this says so first.
        Assert.True(ContextDeadline.IsAvailable);
    }

    [Fact]
    public void Start_DeadlinePasses_ScopedTokenCancelledThenOuterGivenBack()
    {
        var clock = new TestClock(DateTimeOffset.UnixEpoch);
        using var caller = new CancellationTokenSource();
        var context = ResilienceContextPool.Shared.Get(caller.Token);

        var deadline = ContextDeadline.Start(context, TimeSpan.FromSeconds(5), clock);
        var scoped = context.CancellationToken;
        Assert.NotEqual(caller.Token, scoped);
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(scoped.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(scoped.IsCancellationRequested);

        Assert.True(deadline.End());
        Assert.Equal(caller.Token, context.CancellationToken);
        Assert.False(caller.IsCancellationRequested);
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public void Start_CallerCancels_ScopedTokenFollowsAndEndIsNoTimeout()
    {
        var clock = new TestClock(DateTimeOffset.UnixEpoch);
        using var caller = new CancellationTokenSource();
        var context = ResilienceContextPool.Shared.Get(caller.Token);

        var deadline = ContextDeadline.Start(context, TimeSpan.FromSeconds(5), clock);
        caller.Cancel();

        Assert.True(context.CancellationToken.IsCancellationRequested);
        Assert.False(deadline.End());
        Assert.Equal(caller.Token, context.CancellationToken);
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public void Start_SystemClockReused_EachScopeStartsUncancelled()
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        for (int i = 0; i < 3; i++)
        {
            // The system clock's sources are reset and kept for the next scope on the thread.
            var deadline = ContextDeadline.Start(context, TimeSpan.FromMinutes(1), TimeProvider.System);
            Assert.True(context.CancellationToken.CanBeCanceled);
            Assert.False(context.CancellationToken.IsCancellationRequested);
            Assert.False(deadline.End());
            Assert.False(context.CancellationToken.CanBeCanceled);
        }

        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task Start_SystemClockDeadlinePasses_ScopedTokenCancelledAndTheSourceNotReused()
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);

        var deadline = ContextDeadline.Start(context, TimeSpan.FromMilliseconds(20), TimeProvider.System);

        Assert.True(await CancelledWithinAsync(context.CancellationToken));
        Assert.True(deadline.End());
        Assert.False(context.CancellationToken.CanBeCanceled);
        var next = ContextDeadline.Start(context, TimeSpan.FromMinutes(1), TimeProvider.System);
        Assert.NotSame(deadline.Pooled, next.Pooled); // cancelled by its timer: never handed to another scope
        Assert.False(context.CancellationToken.IsCancellationRequested);
        Assert.False(next.End());
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task Start_ShortScopeOnASourceArmedForALongOne_ItsDeadlineStillFires()
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);

        // The same source, its timer armed ten minutes out.
        var second = SecondScopeOnTheSameSource(context, TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(20), out _);

        Assert.True(await CancelledWithinAsync(context.CancellationToken));
        Assert.True(second.End());
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task Start_LongScopeOnASourceArmedForAShortOne_TheOldDeadlineCancelsNothing()
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        // Half a second: the second scope starts long before the first one's time, however slow the machine.
        var second = SecondScopeOnTheSameSource(context, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(10), out long firstDue);
        Assert.Equal(firstDue, second.Pooled!.ArmedFor); // not re-armed: the timer fires for the first scope's time

        // Armed past the first scope's time only once the timer, firing then, has judged the second scope (not due):
        // from there no cancellation can come of the first scope's time. A firing passes through "not armed" on its way.
        var limit = DateTime.UtcNow.AddSeconds(10);
        while (second.Pooled.ArmedFor <= firstDue && DateTime.UtcNow < limit)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        Assert.True(second.Pooled.ArmedFor > firstDue, "the timer never fired for the first scope's time");
        Assert.False(context.CancellationToken.IsCancellationRequested);
        Assert.False(second.End());
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task Start_NestedScopesOnManyThreads_EveryDueScopeCancelledAndNoOther()
    {
        // Sources move between threads with their continuations and are reused by whichever thread ends a scope.
        var workers = Enumerable.Range(0, 8).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            for (int i = 0; i < 150; i++)
            {
                var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
                var call = ContextDeadline.Start(context, TimeSpan.FromMinutes(10), TimeProvider.System);
                var callToken = context.CancellationToken;
                bool due = random.Next(3) == 0;
                var attempt = ContextDeadline.Start(context, due ? TimeSpan.FromMilliseconds(random.Next(1, 6)) : TimeSpan.FromMinutes(random.Next(1, 20)), TimeProvider.System);
                var attemptToken = context.CancellationToken;
                if (due)
                {
                    Assert.True(await CancelledWithinAsync(attemptToken), "a due deadline never fired");
                }
                else
                {
                    await Task.Yield();
                    Assert.False(attemptToken.IsCancellationRequested, "a deadline minutes away fired");
                }

                Assert.Equal(due, attempt.End());
                Assert.False(callToken.IsCancellationRequested, "the call's deadline fired");
                Assert.False(call.End());
                ResilienceContextPool.Shared.Return(context);
            }
        }));

        await Task.WhenAll(workers);
    }

    [Fact]
    public void ForCaller_CallerCancelled_CancellationCarriesTheCallersToken()
    {
        using var caller = new CancellationTokenSource();
        using var scope = new CancellationTokenSource();
        caller.Cancel();
        scope.Cancel();
        var cut = Outcome.FromException<int>(new OperationCanceledException(scope.Token));

        var handedOn = ContextDeadline.ForCaller(cut, caller.Token);

        Assert.Equal(caller.Token, Assert.IsType<OperationCanceledException>(handedOn.Exception).CancellationToken);
        Assert.Same(cut.Exception, ContextDeadline.ForCaller(cut, CancellationToken.None).Exception); // not the caller's: left as it is
    }

    /// <summary>Starts and ends a scope, then starts a second one on the same thread, which gets the same source.</summary>
    private static ContextDeadline SecondScopeOnTheSameSource(ResilienceContext context, TimeSpan first, TimeSpan second, out long firstArmedFor)
    {
        var one = ContextDeadline.Start(context, first, TimeProvider.System);
        firstArmedFor = one.Pooled!.ArmedFor;
        Assert.False(one.End());

        var two = ContextDeadline.Start(context, second, TimeProvider.System);
        Assert.Same(one.Pooled, two.Pooled);
        return two;
    }

    private static async Task<bool> CancelledWithinAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => cancelled.TrySetResult());
        return await Task.WhenAny(cancelled.Task, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)) == cancelled.Task;
    }

    [Fact]
    public void Start_NoPositiveTimeout_TokenLeftAlone()
    {
        using var caller = new CancellationTokenSource();
        var context = ResilienceContextPool.Shared.Get(caller.Token);

        var deadline = ContextDeadline.Start(context, Timeout.InfiniteTimeSpan, TimeProvider.System);

        Assert.Equal(caller.Token, context.CancellationToken);
        Assert.False(deadline.End());
        ResilienceContextPool.Shared.Return(context);
    }
}
