namespace Resilient.Integrations.Status;

/// <summary>
/// What an on-call engineer needs at a glance, without reading logs: each integration's state and since when, its
/// circuit, pacing and retry budget, the copies it served, its queue and dead letters, and the recent alerts. Read by
/// the status page of the ASP.NET Core package, and by any script or dashboard. Nothing in it is secret.
/// </summary>
public interface IResilienceStatus
{
    /// <summary>Takes a snapshot of every integration registered in the app.</summary>
    /// <param name="cancellationToken">Cancels reading the deferred-write store.</param>
    /// <returns>The snapshot.</returns>
    Task<ResilienceStatusReport> GetAsync(CancellationToken cancellationToken = default);
}
