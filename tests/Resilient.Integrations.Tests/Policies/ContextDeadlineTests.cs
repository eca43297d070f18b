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
