using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Validation;

/// <summary>The verdict of an <see cref="IResponseValidator"/>.</summary>
public readonly struct ResponseValidationResult
{
    private ResponseValidationResult(string reason, string? providerCode, FailureKind kind)
    {
        Reason = reason;
        ProviderCode = providerCode;
        _kind = kind;
    }

    // Stored as given; default(FailureKind) is None, which reads as BadResponse for an invalid verdict.
    private readonly FailureKind _kind;

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

    /// <summary>
    /// Creates a failed verdict. The kind is <see cref="FailureKind.BadResponse"/> unless the 2xx says more than
    /// "malformed": an error event at the head of an event stream (<see cref="FailureKind.Unavailable"/> for an
    /// overloaded model) or a completion a content filter stopped (<see cref="FailureKind.Rejected"/>).
    /// </summary>
    /// <param name="reason">Why the response failed; must not contain secrets.</param>
    /// <param name="providerCode">The provider error code found, if any.</param>
    /// <param name="kind">The kind; <see cref="FailureKind.None"/> is not a failure and is refused.</param>
    /// <returns>The verdict.</returns>
    public static ResponseValidationResult Invalid(string reason, string? providerCode = null, FailureKind kind = FailureKind.BadResponse)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (kind == FailureKind.None || !Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A failed verdict needs a failure kind.");
        }

        return new(reason, providerCode, kind);
    }

    /// <summary>Gets the kind a failed verdict is classified as.</summary>
    /// <value><see cref="FailureKind.BadResponse"/> unless the validator said otherwise; <see cref="FailureKind.None"/> for a valid response.</value>
    public FailureKind Kind => Reason is null ? FailureKind.None : _kind == FailureKind.None ? FailureKind.BadResponse : _kind;
}
