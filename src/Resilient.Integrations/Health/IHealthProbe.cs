namespace Resilient.Integrations.Health;

/// <summary>
/// A cheap check that an integration works, run on a schedule: list models, fetch one record, verify the
/// token. Throwing is allowed: the exception is classified like any failure.
/// </summary>
public interface IHealthProbe
{
    /// <summary>Runs the probe once.</summary>
    /// <param name="cancellationToken">Cancelled when the probe's timeout passes or the host stops.</param>
    /// <returns>The result.</returns>
    ValueTask<HealthProbeResult> ProbeAsync(CancellationToken cancellationToken);
}
