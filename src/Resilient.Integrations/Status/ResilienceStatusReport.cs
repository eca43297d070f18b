using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Status;

/// <summary>A snapshot of the app's integrations, from <see cref="IResilienceStatus"/>.</summary>
public sealed record ResilienceStatusReport
{
    /// <summary>Gets when the snapshot was taken.</summary>
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Gets every registered integration, by name.</summary>
    public required IReadOnlyList<IntegrationStatus> Integrations { get; init; }

    /// <summary>Gets the most recent alerts given to the sinks, newest first (at most 50): past the cooldown, before each sink's shared claims.</summary>
    public required IReadOnlyList<RecentAlert> RecentAlerts { get; init; }
}
