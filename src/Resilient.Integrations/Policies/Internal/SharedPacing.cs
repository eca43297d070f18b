using Microsoft.Extensions.Logging;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The app's side of an <see cref="ISharedRateBudget"/>: every call bounded by its timeout, a failure logged once and
/// answered by pacing alone, and after a failure the shared budget left alone for a few seconds, so an outage of the
/// store costs one request its timeout, not every request.
/// </summary>
internal sealed class SharedPacing
{
    private readonly ISharedRateBudget _budget;
    private readonly TimeProvider _time;
    private readonly SharedTier _tier;
    private long _aloneUntil;

    public SharedPacing(ISharedRateBudget budget, ILogger logger, TimeProvider time)
    {
        _budget = budget;
        _time = time;
        _tier = new SharedTier((type, message) => Log.SharedRateBudgetUnavailable(logger, type, message), () => Log.SharedRateBudgetBack(logger));
    }

    /// <summary>Gets or sets how long the shared budget is left alone after it failed to answer (real time: it bounds I/O, whatever clock the app injects).</summary>
    public TimeSpan AloneAfterFailure { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The app's clock when the app injects one of its own; otherwise the store's, which all instances share.</summary>
    private DateTimeOffset? Now => ReferenceEquals(_time, TimeProvider.System) ? null : _time.GetUtcNow();

    private bool Alone => Environment.TickCount64 < Volatile.Read(ref _aloneUntil);

    /// <summary>Takes a slot of the shared budget, or returns <see langword="null"/> when the request must be paced locally.</summary>
    public async ValueTask<RateBudgetGrant?> TryTakeAsync(string integration, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (Alone)
        {
            return null;
        }

        var request = new RateBudgetRequest(integration, maxWait, Now);
        var (answered, grant) = await _tier.TryAsync(t => _budget.TakeAsync(request, t), _budget.Timeout, cancellationToken).ConfigureAwait(false);
        return answered ? grant : GoAlone();
    }

    /// <summary>
    /// Reports what a response taught before the answer goes back, so the caller's next request already meets the
    /// budget it taught (only responses carrying budget headers or a 429 pay for it, within the timeout).
    /// </summary>
    public async ValueTask ReportAsync(string integration, PacingLesson lesson, RateBudgetGrant sent)
    {
        if (Alone)
        {
            return;
        }

        var report = new RateBudgetReport(integration, lesson.Hold, lesson.Limit, lesson.Remaining, lesson.UntilFull, lesson.Spent, sent, Now);
        var (answered, _) = await _tier.TryAsync(
            async t =>
            {
                await _budget.ReportAsync(report, t).ConfigureAwait(false);
                return true;
            },
            _budget.Timeout,
            CancellationToken.None).ConfigureAwait(false);
        if (!answered)
        {
            GoAlone();
        }
    }

    private RateBudgetGrant? GoAlone()
    {
        Volatile.Write(ref _aloneUntil, Environment.TickCount64 + (long)AloneAfterFailure.TotalMilliseconds);
        return null;
    }
}
