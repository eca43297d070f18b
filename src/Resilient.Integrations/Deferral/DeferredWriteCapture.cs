using Resilient.Integrations.Redaction.Internal;

namespace Resilient.Integrations.Deferral;

/// <summary>Turns an outgoing request into a <see cref="DeferredWrite"/> that holds no credential.</summary>
public static class DeferredWriteCapture
{
    /// <summary>The header every delivery attempt carries.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    // Per-attempt headers: a replay gets fresh ones from the pipeline.
    private static readonly HashSet<string> NotReplayed = new(StringComparer.OrdinalIgnoreCase) { "traceparent", "tracestate", "Request-Id", "baggage" };

    private static string WithoutUserInfo(Uri uri) =>
        uri.IsAbsoluteUri && uri.UserInfo.Length > 0 ? new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri.ToString() : uri.OriginalString;

    /// <summary>
    /// Captures a request: method, address (secret query values removed), body, content headers and the
    /// request headers that are not credentials. Authorization, api-key, x-api-key, cookies and
    /// <paramref name="sensitiveHeaders"/> are left out; the caller's <c>Idempotency-Key</c> is kept, or one is generated.
    /// </summary>
    /// <param name="integration">The integration that will deliver it.</param>
    /// <param name="request">The request.</param>
    /// <param name="now">When it is handed over.</param>
    /// <param name="sensitiveHeaders">More headers to leave out; the defaults are always left out.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The write, ready to enqueue.</returns>
    public static async Task<DeferredWrite> FromRequestAsync(
        string integration, HttpRequestMessage request, DateTimeOffset now, IEnumerable<string>? sensitiveHeaders = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(integration);
        ArgumentNullException.ThrowIfNull(request);
        var redactor = new SecretRedactor(SecretRedactor.DefaultSensitiveHeaders.Concat(sensitiveHeaders ?? []));
        var headers = new List<KeyValuePair<string, string>>();
        string? idempotencyKey = null;
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            if (name.Equals(IdempotencyKeyHeader, StringComparison.OrdinalIgnoreCase))
            {
                idempotencyKey = values.ToString();
            }
            else if (!redactor.IsSensitiveHeader(name) && !NotReplayed.Contains(name))
            {
                headers.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
            }
        }

        byte[] body = [];
        if (request.Content is { } content)
        {
            foreach (var (name, values) in content.Headers.NonValidated)
            {
                headers.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
            }

            body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }

        return new DeferredWrite
        {
            Integration = integration,
            Method = request.Method.Method,
            Uri = request.RequestUri is { } uri ? new Uri(SecretRedactor.RemoveSecretQueryValues(WithoutUserInfo(uri)), UriKind.RelativeOrAbsolute) : null,
            Headers = headers,
            Body = body,
            IdempotencyKey = string.IsNullOrWhiteSpace(idempotencyKey) ? Guid.NewGuid().ToString("N") : idempotencyKey,
            EnqueuedAt = now,
            NextAttemptAt = now,
        };
    }
}
