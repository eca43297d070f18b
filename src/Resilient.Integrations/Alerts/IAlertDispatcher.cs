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
}
