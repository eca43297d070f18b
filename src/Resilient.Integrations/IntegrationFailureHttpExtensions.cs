using Resilient.Integrations.Classification;

namespace Resilient.Integrations;

/// <summary>Reads what the pipeline concluded about a response it returned.</summary>
public static class IntegrationFailureHttpExtensions
{
    internal static readonly HttpRequestOptionsKey<FailureClassification> ClassificationKey = new("ri.classification");

    /// <summary>
    /// Gets the classification of a response returned by a resilient integration's client, which matters when
    /// <see cref="Policies.ResilientIntegrationOptions.ThrowOnFailure"/> is off and failed responses are returned.
    /// </summary>
    /// <param name="response">The response.</param>
    /// <returns>The classification; <see cref="FailureClassification.Success"/> when the response was not classified.</returns>
    public static FailureClassification GetFailureClassification(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(ClassificationKey, out var classification)
            ? classification
            : FailureClassification.Success;
    }
}
