using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Classification;

/// <summary>Options of the <see cref="FailureClassifier"/>.</summary>
public sealed class FailureClassifierOptions
{
    /// <summary>The largest allowed value of <see cref="MaxErrorBodyBytes"/>.</summary>
    public const int MaxErrorBodyBytesLimit = 1024 * 1024;

    /// <summary>Gets the host's own rules, run in order before the built-in defaults; the first match decides.</summary>
    /// <value>Defaults to empty.</value>
    public IList<FailureRule> Rules { get; } = [];

    /// <summary>Gets or sets the validator of successful responses; <see langword="null"/> accepts every 2xx.</summary>
    /// <value>Defaults to <see cref="JsonResponseValidator.Default"/>.</value>
    public IResponseValidator? ResponseValidator { get; set; } = JsonResponseValidator.Default;

    /// <summary>
    /// Gets or sets how many bytes of an error body (and of a body that a body rule tests) are read to classify
    /// it. The rest is never read by the classifier; the caller can still read all of it. Zero reads no body.
    /// </summary>
    /// <value>Defaults to 4096. Must be between 0 and <see cref="MaxErrorBodyBytesLimit"/>.</value>
    public int MaxErrorBodyBytes { get; set; } = 4096;

    /// <summary>Headers that say whether a retry may help as <c>x-should-retry</c> does, under an API's own name (Stripe's <c>Stripe-Should-Retry</c>); added by profiles.</summary>
    internal IList<string> ShouldRetryHeaders { get; } = [];
}
