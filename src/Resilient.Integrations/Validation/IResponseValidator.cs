namespace Resilient.Integrations.Validation;

/// <summary>
/// Decides whether a successful (2xx) response carries what the integration expects. A response that fails
/// validation is classified as <see cref="Classification.FailureKind.BadResponse"/>.
/// </summary>
/// <remarks>
/// Implementations must leave the body readable by the caller (read it through a buffered or rewound stream)
/// and must not throw for malformed content: return <see cref="ResponseValidationResult.Invalid"/> instead.
/// </remarks>
public interface IResponseValidator
{
    /// <summary>Validates a successful response.</summary>
    /// <param name="response">The response, with a 2xx status.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The verdict.</returns>
    ValueTask<ResponseValidationResult> ValidateAsync(HttpResponseMessage response, CancellationToken cancellationToken);
}
