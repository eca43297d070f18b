namespace Resilient.Integrations.Validation;

/// <summary>The verdict of an <see cref="IResponseValidator"/>.</summary>
public readonly struct ResponseValidationResult
{
    private ResponseValidationResult(string reason, string? providerCode)
    {
        Reason = reason;
        ProviderCode = providerCode;
    }

    /// <summary>A response that carries what the integration expects.</summary>
    public static ResponseValidationResult Valid => default;

    /// <summary>Gets a value indicating whether the response passed.</summary>
    /// <value><see langword="true"/> when no <see cref="Reason"/> was given.</value>
    public bool IsValid => Reason is null;

    /// <summary>Gets why the response failed, for logs and alerts.</summary>
    /// <value><see langword="null"/> for a valid response.</value>
    public string? Reason { get; }

    /// <summary>Gets the provider error code found in the body, if any (e.g. from an error envelope inside a 200).</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? ProviderCode { get; }

    /// <summary>Creates a failed verdict.</summary>
    /// <param name="reason">Why the response failed; must not contain secrets.</param>
    /// <param name="providerCode">The provider error code found, if any.</param>
    /// <returns>The verdict.</returns>
    public static ResponseValidationResult Invalid(string reason, string? providerCode = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new(reason, providerCode);
    }
}
