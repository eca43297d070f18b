using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;

namespace Resilient.Integrations;

/// <summary>The value of a call run by <see cref="IResilientIntegration"/>, with its freshness.</summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class IntegrationResult<T>
{
    internal IntegrationResult(T value, Degradation? degradation)
    {
        Value = value;
        Degradation = degradation;
    }

    /// <summary>Gets the value: live, or the last good one when <see cref="IsLive"/> is <see langword="false"/>.</summary>
    /// <value>Set by the integration.</value>
    public T Value { get; }

    /// <summary>Gets a value indicating whether the value came from the live call.</summary>
    /// <value><see langword="true"/> when <see cref="Degradation"/> is <see langword="null"/>.</value>
    public bool IsLive => Degradation is null;

    /// <summary>Gets how stale the value is, with a notice for people, when it is a kept value.</summary>
    /// <value><see langword="null"/> for a live value.</value>
    public Degradation? Degradation { get; }

    /// <summary>Gets the failure of the live call behind a stale value.</summary>
    /// <value><see langword="null"/> for a live value.</value>
    public FailureClassification? Failure => Degradation?.Failure;
}
