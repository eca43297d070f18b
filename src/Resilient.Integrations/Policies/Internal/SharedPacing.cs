using Microsoft.Extensions.Logging;
using Resilient.Integrations.Redaction.Internal;
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
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _aloneUntil;
    private int _failing;

    public SharedPacing(ISharedRateBudget budget, ILogger logger, TimeProvider time)
    {
        _budget = budget;
        _logger = logger;
        _time = time;
    }

    /// <summary>The app's clock when the app injects one of its own; otherwise the store's, which all instances share.</summary>
    /// <summary>Gets or sets how long the shared budget is left alone after it failed to answer (real time: it bounds I/O, whatever clock the app injects).</summary>
    public TimeSpan AloneAfterFailure { get; set; } = TimeSpan.FromSeconds(5);

    private DateTimeOffset? Now => ReferenceEquals(_time, TimeProvider.System) ? null : _time.GetUtcNow();

    /// <summary>Takes a slot of the shared budget, or returns <see langword="null"/> when the request must be paced locally.</summary>
    public async ValueTask<RateBudgetGrant?> TryTakeAsync(string integration, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _aloneUntil))
        {
            return null;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_budget.Timeout);
            var grant = await _budget.TakeAsync(new RateBudgetRequest(integration, maxWait, Now), timeout.Token)
                .AsTask().WaitAsync(_budget.Timeout, cancellationToken).ConfigureAwait(false);
            Answered();
            return grant;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Failed(ex);
            return null;
        }
    }

    /// <summary>
    /// Reports what a response taught before the answer goes back, so the caller's next request already meets the
    /// budget it taught (only responses carrying budget headers or a 429 pay for it, within the timeout).
    /// </summary>
    public async ValueTask ReportAsync(string integration, PacingLesson lesson, RateBudgetGrant sent)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _aloneUntil))
        {
            return;
        }

        var report = new RateBudgetReport(integration, lesson.Hold, lesson.Limit, lesson.Remaining, lesson.UntilFull, lesson.Spent, sent, Now);
        try
        {
            using var timeout = new CancellationTokenSource(_budget.Timeout);
            await _budget.ReportAsync(report, timeout.Token).AsTask().WaitAsync(_budget.Timeout).ConfigureAwait(false);
            Answered();
        }
        catch (Exception ex)
        {
            Failed(ex);
        }
    }

    private void Answered()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            Log.SharedRateBudgetBack(_logger);
        }
    }

    private void Failed(Exception ex)
    {
        Volatile.Write(ref _aloneUntil, Environment.TickCount64 + (long)AloneAfterFailure.TotalMilliseconds);
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            Log.SharedRateBudgetUnavailable(_logger, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
        }
    }
}
