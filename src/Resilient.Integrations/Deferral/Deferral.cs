using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Deferral;

/// <summary>Says that a write was not delivered yet but is safely queued, and why.</summary>
/// <param name="Id">The queued write's identifier.</param>
/// <param name="IdempotencyKey">The key its every delivery attempt carries.</param>
/// <param name="Integration">The integration that will deliver it.</param>
/// <param name="Failure">Why it was not delivered now; <see cref="FailureClassification.Success"/> when it was queued without trying because the integration is Red.</param>
public sealed record Deferral(long Id, string IdempotencyKey, string Integration, FailureClassification Failure)
{
    /// <summary>Gets the notice for people, e.g. "Queued; will be sent when the crm service recovers".</summary>
    /// <value>Derived from <see cref="Integration"/>.</value>
    public string Notice => $"Queued; will be sent when the {Integration} service recovers";
}
