using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Failover.Internal;

/// <summary>
/// Whether a secondary endpoint is answering for the primary: from the first answer a secondary gives until the
/// primary answers again. Starting one turns the integration Yellow, logs and alerts (once per alert episode: the
/// dispatcher de-duplicates by topic); ending one turns it back. Outlives pipelines rebuilt on reload.
/// </summary>
internal sealed class FailoverEpisode(IntegrationRuntime runtime)
{
    public const string AlertTopic = "failover";

    private const string HealthReason = "a secondary endpoint answers for the primary";

    private int _active;

    public bool IsActive => Volatile.Read(ref _active) == 1;

    /// <summary>A secondary answered: counts it, and starts the episode if none runs.</summary>
    public void SecondaryServed(ServedEndpoint served, AlertSeverity? alert)
    {
        string endpoint = served.Endpoint.ToString();
        runtime.Metrics.FailoverServed(runtime.Name, endpoint);
        if (Interlocked.CompareExchange(ref _active, 1, 0) != 0)
        {
            return;
        }

        Log.FailedOver(runtime.Logger, runtime.Name, endpoint, served.Primary.ToString(), served.PrimaryFailure.Kind);
        runtime.Health.SetDegraded(runtime.Name, HealthReason, degraded: true);
        if (alert is { } severity)
        {
            var kind = served.PrimaryFailure.Kind is FailureKind.None ? FailureKind.Unavailable : served.PrimaryFailure.Kind;
            runtime.RaiseAlert(
                severity,
                kind,
                $"failed over: {served.Notice}",
                new Dictionary<string, string>(StringComparer.Ordinal) { ["endpoint"] = endpoint, ["primary"] = served.Primary.ToString() },
                topic: AlertTopic);
        }
    }

    /// <summary>The primary answered: ends an episode that runs. A read of one field when none does.</summary>
    public void PrimaryServed(string primary)
    {
        if (Volatile.Read(ref _active) == 0 || Interlocked.CompareExchange(ref _active, 0, 1) != 1)
        {
            return;
        }

        Log.PrimaryBack(runtime.Logger, runtime.Name, primary);
        runtime.Health.SetDegraded(runtime.Name, HealthReason, degraded: false);
    }
}
