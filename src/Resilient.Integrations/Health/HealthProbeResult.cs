using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Health;

/// <summary>The outcome of one probe (or one live call fed to the health layer).</summary>
/// <param name="Outcome">The classification; <see cref="FailureClassification.Success"/> for a healthy answer.</param>
/// <param name="Latency">How long the probe took.</param>
public readonly record struct HealthProbeResult(FailureClassification Outcome, TimeSpan Latency)
{
    /// <summary>A healthy answer.</summary>
    /// <param name="latency">How long the probe took.</param>
    /// <returns>The result.</returns>
    public static HealthProbeResult Healthy(TimeSpan latency) => new(FailureClassification.Success, latency);
}
