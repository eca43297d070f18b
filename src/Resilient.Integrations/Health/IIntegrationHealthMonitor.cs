namespace Resilient.Integrations.Health;

/// <summary>The health of every integration, fed by probes and by live traffic.</summary>
public interface IIntegrationHealthMonitor
{
    /// <summary>Raised after an integration's state changed. Handlers must be quick and must not throw.</summary>
    event EventHandler<HealthStateChange>? StateChanged;

    /// <summary>Gets the current health of an integration.</summary>
    /// <param name="integration">The integration's name.</param>
    /// <returns>The health; Unknown for an integration with no results yet.</returns>
    IntegrationHealth Get(string integration);

    /// <summary>Gets the current health of every integration that has reported.</summary>
    /// <returns>The health of each, by name.</returns>
    IReadOnlyList<IntegrationHealth> GetAll();

    /// <summary>Feeds a result, e.g. from a probe of your own that does not run on the scheduler.</summary>
    /// <param name="integration">The integration's name.</param>
    /// <param name="result">The result.</param>
    void Report(string integration, HealthProbeResult result);
}
