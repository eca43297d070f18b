namespace Resilient.Integrations.Alerts;

/// <summary>
/// Hands alerts to every registered <see cref="IAlertSink"/> in the background, with de-duplication per alert
/// episode: repeats are suppressed for a cooldown, and a recovery ends the episode once it has settled.
/// </summary>
public interface IAlertDispatcher
{
    /// <summary>Queues an alert without waiting. Never throws and never blocks.</summary>
    /// <param name="alert">The alert.</param>
    /// <returns>
    /// <see langword="false"/> when the dispatcher has shut down and the alert goes nowhere; a repeat suppressed
    /// within the cooldown counts as accepted.
    /// </returns>
    bool Publish(Alert alert);

    /// <summary>
    /// Ends an integration's alert episode: the cooldowns of its kinds are forgotten, so the next alert of each
    /// kind is sent at once, and a recovery still settling is dropped unannounced. A recovery that stayed Green for
    /// <see cref="AlertOptions.SettleTime"/> does this by itself; call it after a manual fix or between drills.
    /// </summary>
    /// <param name="integration">The integration's name.</param>
    void ResetCooldown(string integration);

    /// <summary>
    /// Waits until every alert queued before this call has been delivered, suppressed as a repeat or given up on
    /// by every sink (a hanging sink after its <see cref="AlertOptions.SinkTimeout"/>, a failing one at once): for a
    /// drill or a test that must not see one episode's alerts in the next. A recovery still settling is not waited for.
    /// </summary>
    /// <param name="cancellationToken">Stops the wait; the alerts are delivered all the same.</param>
    /// <returns>A task that completes when the alerts queued before it are done with.</returns>
    /// <remarks>This default body, for a dispatcher that delivers as it is called and so has no queue, completes at once.</remarks>
    Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
