using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Resilient.Integrations.Health.Internal;

/// <summary>Reports an integration's last known state to Microsoft.Extensions.Diagnostics.HealthChecks without calling the API.</summary>
internal sealed class IntegrationHealthCheck(string integration, IIntegrationHealthMonitor monitor) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = monitor.Get(integration);
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["state"] = health.State.ToString(),
            ["since"] = health.Since,
        };
        if (health.LastFailureKind is { } kind)
        {
            data["last_failure_kind"] = kind.ToString();
        }

        string description = $"{integration} is {health.State}" + (health.LastResult is { Outcome.IsFailure: true } last ? $": {last.Outcome}" : string.Empty);
        var result = health.State switch
        {
            HealthState.Green => HealthCheckResult.Healthy(description, data),
            HealthState.Red => new HealthCheckResult(context.Registration.FailureStatus, description, null, data),
            _ => HealthCheckResult.Degraded(description, null, data), // Yellow, or no recent result
        };
        return Task.FromResult(result);
    }
}
