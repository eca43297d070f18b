using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Failover;

/// <summary>Says that a live answer came from a secondary endpoint, not the primary, and why.</summary>
public sealed class ServedEndpoint
{
    /// <summary>Creates the description of an answer a secondary served.</summary>
    /// <param name="endpoint">The base address that answered.</param>
    /// <param name="primary">The primary base address the request was meant for.</param>
    /// <param name="primaryFailure">Why the primary (and any endpoint before this one) was passed over.</param>
    public ServedEndpoint(Uri endpoint, Uri primary, FailureClassification primaryFailure)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(primary);
        Endpoint = endpoint;
        Primary = primary;
        PrimaryFailure = primaryFailure;
    }

    /// <summary>Gets the base address that answered.</summary>
    /// <value>Set by the constructor.</value>
    public Uri Endpoint { get; }

    /// <summary>Gets the primary base address the request was meant for.</summary>
    /// <value>Set by the constructor.</value>
    public Uri Primary { get; }

    /// <summary>Gets why the endpoints before this one were passed over (the last such failure).</summary>
    /// <value>Set by the constructor.</value>
    public FailureClassification PrimaryFailure { get; }

    /// <summary>Gets the notice for people, e.g. "served by https://eu.api.example.com/: primary unavailable".</summary>
    /// <value>Derived from <see cref="Endpoint"/> and <see cref="PrimaryFailure"/>.</value>
    public string Notice => $"served by {Endpoint}: primary {Why(PrimaryFailure)}";

    /// <inheritdoc/>
    public override string ToString() => $"{Notice} ({PrimaryFailure})";

    private static string Why(in FailureClassification failure) => failure.Reason == "circuit open"
        ? "circuit open"
        : failure.Kind == FailureKind.Timeout ? "timed out" : "unavailable";
}
