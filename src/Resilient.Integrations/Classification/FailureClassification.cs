using System.Globalization;
using System.Net;
using System.Text;

namespace Resilient.Integrations.Classification;

/// <summary>
/// What the classifier concluded about one outcome of an external call: the kind of failure and the facts
/// that policies need to act on it (status, provider error code, retry hint, whether retrying may help).
/// </summary>
/// <remarks>The default value is a success (<see cref="FailureKind.None"/>).</remarks>
public readonly struct FailureClassification : IEquatable<FailureClassification>
{
    private readonly bool? _retryMayHelp;

    /// <summary>Creates a classification of the given kind.</summary>
    /// <param name="kind">The failure kind.</param>
    public FailureClassification(FailureKind kind) => Kind = kind;

    /// <summary>A successful outcome.</summary>
    public static FailureClassification Success => default;

    /// <summary>Gets the failure kind.</summary>
    /// <value>Defaults to <see cref="FailureKind.None"/>.</value>
    public FailureKind Kind { get; init; }

    /// <summary>Gets a value indicating whether the outcome is a failure.</summary>
    /// <value><see langword="true"/> when <see cref="Kind"/> is not <see cref="FailureKind.None"/>.</value>
    public bool IsFailure => Kind != FailureKind.None;

    /// <summary>Gets a value indicating whether the caller cancelled the call. A cancellation is never a failure.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool IsCancellation { get; init; }

    /// <summary>Gets the HTTP status of the response, if the outcome was a response.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public HttpStatusCode? StatusCode { get; init; }

    /// <summary>Gets the provider's own error code, such as <c>insufficient_quota</c> or <c>overloaded_error</c>.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? ProviderCode { get; init; }

    /// <summary>Gets how long the server asked the client to wait before trying again.</summary>
    /// <value>Defaults to <see langword="null"/> (the server gave no usable hint).</value>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Gets a value indicating whether repeating the call may succeed.</summary>
    /// <value>
    /// Defaults to <see cref="FailureKindExtensions.IsTransient(FailureKind)"/> of <see cref="Kind"/>, unless
    /// the server (<c>x-should-retry</c>) or a rule said otherwise. Always <see langword="false"/> for a non-failure.
    /// </value>
    public bool RetryMayHelp
    {
        get => IsFailure && (_retryMayHelp ?? Kind.IsTransient());
        init => _retryMayHelp = value;
    }

    /// <summary>Gets the exception behind the outcome, if the call threw.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Exception? Exception { get; init; }

    /// <summary>Gets a short explanation for people, such as <c>unexpected content type 'text/html'</c>.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Reason { get; init; }

    /// <summary>Classification of a call the caller cancelled.</summary>
    /// <param name="exception">The cancellation exception, if any.</param>
    /// <returns>A non-failure classification with <see cref="IsCancellation"/> set.</returns>
    public static FailureClassification Cancelled(Exception? exception = null) =>
        new(FailureKind.None) { IsCancellation = true, Exception = exception };

    /// <inheritdoc/>
    public bool Equals(FailureClassification other) =>
        Kind == other.Kind && IsCancellation == other.IsCancellation && StatusCode == other.StatusCode &&
        ProviderCode == other.ProviderCode && RetryAfter == other.RetryAfter && RetryMayHelp == other.RetryMayHelp &&
        ReferenceEquals(Exception, other.Exception) && Reason == other.Reason;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FailureClassification other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, StatusCode, ProviderCode, RetryAfter, IsCancellation);

    /// <summary>Compares two classifications for equality.</summary>
    /// <param name="left">The first classification.</param>
    /// <param name="right">The second classification.</param>
    /// <returns><see langword="true"/> when every field is equal.</returns>
    public static bool operator ==(FailureClassification left, FailureClassification right) => left.Equals(right);

    /// <summary>Compares two classifications for inequality.</summary>
    /// <param name="left">The first classification.</param>
    /// <param name="right">The second classification.</param>
    /// <returns><see langword="true"/> when any field differs.</returns>
    public static bool operator !=(FailureClassification left, FailureClassification right) => !left.Equals(right);

    /// <summary>Describes the classification in one line, for logs, e.g. <c>RateLimit (HTTP 429, rate_limit_exceeded, retry after 1.5s)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        if (IsCancellation)
        {
            return "Cancelled by the caller";
        }

        var text = new StringBuilder(Kind.ToString());
        var details = new List<string>(4);
        if (StatusCode is { } status)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)status}"));
        }

        if (ProviderCode is not null)
        {
            details.Add(ProviderCode);
        }

        if (RetryAfter is { } wait)
        {
            details.Add(string.Create(CultureInfo.InvariantCulture, $"retry after {wait.TotalSeconds:0.###}s"));
        }

        if (Reason is not null)
        {
            details.Add(Reason);
        }
        else if (Exception is not null)
        {
            details.Add(Exception.GetType().Name);
        }

        if (details.Count > 0)
        {
            text.Append(" (").AppendJoin(", ", details).Append(')');
        }

        return text.ToString();
    }
}
