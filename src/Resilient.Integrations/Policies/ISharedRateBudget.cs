namespace Resilient.Integrations.Policies;

/// <summary>
/// One rate budget for an integration shared by every instance of the app (e.g. through Redis), so pods sharing one
/// API key pace themselves together instead of each spending the provider's whole refill rate. Consulted only for
/// integrations whose provider reports a request budget; when it cannot answer within <see cref="Timeout"/>, each
/// instance paces alone until it answers again.
/// </summary>
public interface ISharedRateBudget
{
    /// <summary>Gets how long one call may take before the instance paces alone.</summary>
    TimeSpan Timeout { get; }

    /// <summary>Takes one request's slot of the shared budget, unless the wait for it would exceed the request's limit.</summary>
    /// <param name="request">The integration and how long the request may wait.</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> passes or the call is cancelled.</param>
    /// <returns>Whether the slot was taken and how long to wait before sending.</returns>
    ValueTask<RateBudgetGrant> TakeAsync(RateBudgetRequest request, CancellationToken cancellationToken);

    /// <summary>Teaches the shared budget what a response said: a hold after a 429, the provider's budget headers.</summary>
    /// <param name="report">What was learned.</param>
    /// <param name="cancellationToken">Cancelled when <see cref="Timeout"/> passes or the app stops.</param>
    /// <returns>A task that completes when the report is stored.</returns>
    ValueTask ReportAsync(RateBudgetReport report, CancellationToken cancellationToken);

    /// <summary>Registers what to do when another instance learns a hold, so requests that do not consult the budget hold too.</summary>
    /// <param name="onHold">Called with each hold another instance reports; must not throw or block.</param>
    void OnHold(Action<RateBudgetHold> onHold);
}

/// <summary>A request asking the shared budget for a slot.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="MaxWait">The longest the request may wait; a longer wait takes nothing.</param>
/// <param name="Now">The app's clock when it is not the system clock (tests, simulations); <see langword="null"/>: the store's own clock, which instances share.</param>
public readonly record struct RateBudgetRequest(string Integration, TimeSpan MaxWait, DateTimeOffset? Now);

/// <summary>The answer to a <see cref="RateBudgetRequest"/>.</summary>
/// <param name="Admitted">Whether a slot was taken.</param>
/// <param name="Wait">How long to wait before sending (or, when not admitted, how long the wait would have been).</param>
/// <param name="Taken">How many slots had been taken across instances, this one included: reported back with the answer's budget.</param>
/// <param name="At">When the slot was taken, in the store's time (milliseconds since the Unix epoch).</param>
public readonly record struct RateBudgetGrant(bool Admitted, TimeSpan Wait, long Taken, long At);

/// <summary>What a response taught about the provider's budget.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="Hold">How long every request must wait (a 429's hint or a spent limit's reset); <see cref="TimeSpan.Zero"/> for none.</param>
/// <param name="Limit">The provider's request limit from its headers; 0 when the response carried none.</param>
/// <param name="Remaining">Requests left of <paramref name="Limit"/>.</param>
/// <param name="UntilFull">How long until the budget is full again.</param>
/// <param name="Spent">A 429 without budget headers: the budget is spent now and was spent too fast.</param>
/// <param name="Sent">The grant the request was sent under, to bring the budget up to now; <see langword="default"/> if none.</param>
/// <param name="Now">The app's clock when it is not the system clock; <see langword="null"/>: the store's own clock.</param>
public readonly record struct RateBudgetReport(
    string Integration, TimeSpan Hold, int Limit, int Remaining, TimeSpan UntilFull, bool Spent, RateBudgetGrant Sent, DateTimeOffset? Now);

/// <summary>A hold another instance learned.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="Hold">How long from now requests must wait.</param>
public readonly record struct RateBudgetHold(string Integration, TimeSpan Hold);
