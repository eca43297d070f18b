using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Health;

/// <summary>What the health layer knows about one integration right now.</summary>
/// <param name="Integration">The integration's name.</param>
/// <param name="State">The state; Unknown when the last result is too old.</param>
/// <param name="Since">When the state last changed.</param>
/// <param name="LastResultAt">When the last result arrived, if any.</param>
/// <param name="LastResult">The last result, if any.</param>
/// <param name="LastFailureKind">The kind of the last failure seen, if any.</param>
public readonly record struct IntegrationHealth(
    string Integration,
    HealthState State,
    DateTimeOffset Since,
    DateTimeOffset? LastResultAt,
    HealthProbeResult? LastResult,
    FailureKind? LastFailureKind);

/// <summary>A change of an integration's state.</summary>
/// <param name="Integration">The integration's name.</param>
/// <param name="Previous">The state before.</param>
/// <param name="Current">The state now.</param>
/// <param name="At">When it changed.</param>
/// <param name="PreviousFor">How long the previous state lasted.</param>
/// <param name="Cause">The result that made the change.</param>
public readonly record struct HealthStateChange(
    string Integration, HealthState Previous, HealthState Current, DateTimeOffset At, TimeSpan PreviousFor, FailureClassification Cause);
