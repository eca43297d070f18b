namespace Resilient.Integrations.Alerts;

/// <summary>Hands alerts to every registered <see cref="IAlertSink"/> in the background, with de-duplication.</summary>
public interface IAlertDispatcher
{
    /// <summary>Queues an alert without waiting. Never throws and never blocks.</summary>
    /// <param name="alert">The alert.</param>
    /// <returns><see langword="false"/> when the queue was full and the alert was dropped.</returns>
    bool Publish(Alert alert);

    /// <summary>
    /// Ends an integration's alert episode: the cooldowns of its kinds are forgotten, so the next alert of each
    /// kind is sent at once. A recovery to Green does this by itself; call it after a manual fix or between drills.
    /// </summary>
    /// <param name="integration">The integration's name.</param>
    void ResetCooldown(string integration);

    /// <summary>
    /// Waits until every alert queued before this call has been delivered, suppressed as a repeat or given up on
    /// after its sink timeout: for a drill or a test that must not see one episode's alerts in the next.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait; the alerts are delivered all the same.</param>
    /// <returns>A task that completes when the alerts queued before it are done with.</returns>
    /// <remarks>This default body, for a dispatcher that delivers as it is called and so has no queue, completes at once.</remarks>
    Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
