namespace Resilient.Integrations.Classification;

/// <summary>What a <see cref="FailureRule"/>'s retry hint can read of the answer it matched: the status, headers and body prefix.</summary>
public readonly struct FailureRuleAnswer
{
    private readonly Func<string, string?>? _header;

    internal FailureRuleAnswer(int statusCode, string? body, Func<string, string?> header, TimeProvider time)
    {
        StatusCode = statusCode;
        Body = body;
        _header = header;
        Now = time.GetUtcNow();
    }

    /// <summary>Gets the HTTP status of the answer.</summary>
    /// <value>100 to 599.</value>
    public int StatusCode { get; }

    /// <summary>Gets the bounded prefix of the body the classifier read, decoded as UTF-8.</summary>
    /// <value><see langword="null"/> when the answer had no body or it was not read.</value>
    public string? Body { get; }

    /// <summary>Gets the time now, from the classifier's clock: what an epoch or a date in the answer is measured against.</summary>
    /// <value>The injected <see cref="TimeProvider"/>'s UTC time when the answer was classified.</value>
    public DateTimeOffset Now { get; }

    /// <summary>Gets the first value of a response header.</summary>
    /// <param name="name">The header name (case-insensitive).</param>
    /// <returns>The value, or <see langword="null"/> when the answer does not carry it.</returns>
    public string? Header(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _header?.Invoke(name);
    }
}
