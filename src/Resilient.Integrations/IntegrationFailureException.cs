using Resilient.Integrations.Classification;

namespace Resilient.Integrations;

/// <summary>
/// A call to an integration failed after the policies for its failure kind ran (retries, pacing, circuit
/// breaker). Carries the classification, so callers can branch on <see cref="FailureClassification.Kind"/>
/// (skip a bad item, stop a batch on <see cref="FailureKind.Auth"/>) instead of parsing messages.
/// </summary>
/// <remarks>Derives from <see cref="HttpRequestException"/> so existing <c>catch (HttpRequestException)</c> blocks keep working.</remarks>
public sealed class IntegrationFailureException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="integration">The integration's name.</param>
    /// <param name="classification">What failed.</param>
    /// <param name="innerException">The exception behind the failure, if any.</param>
    public IntegrationFailureException(string integration, FailureClassification classification, Exception? innerException = null)
        : base($"Integration '{integration}' failed: {classification}", innerException ?? classification.Exception, classification.StatusCode)
    {
        Integration = integration;
        Classification = classification;
    }

    /// <summary>Gets the integration's name.</summary>
    /// <value>Set by the constructor.</value>
    public string Integration { get; }

    /// <summary>Gets what failed.</summary>
    /// <value>Set by the constructor.</value>
    public FailureClassification Classification { get; }

    /// <summary>Gets the failure kind; shorthand for <c>Classification.Kind</c>.</summary>
    /// <value>Set by the constructor.</value>
    public FailureKind Kind => Classification.Kind;

    /// <summary>The failure of <paramref name="integration"/> in an exception's chain, if one is there (an SDK wraps it).</summary>
    internal static IntegrationFailureException? Find(Exception exception, string integration)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IntegrationFailureException failure && string.Equals(failure.Integration, integration, StringComparison.Ordinal))
            {
                return failure;
            }
        }

        return null;
    }
}
