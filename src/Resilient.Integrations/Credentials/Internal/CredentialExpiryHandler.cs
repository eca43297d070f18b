using System.Globalization;

namespace Resilient.Integrations.Credentials.Internal;

/// <summary>
/// Reads when the integration's credential expires from its own traffic: the <c>exp</c> of a JWT bearer token the
/// request carries, and the API's expiry header on the answer. Each is decoded only when its value changes (a string
/// compare per call otherwise); neither value is kept, only the time it yields.
/// </summary>
internal sealed class CredentialExpiryHandler(CredentialExpiryWatch watch) : DelegatingHandler
{
    private Seen? _lastToken;
    private string? _lastHeader;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var options = watch.Options;
        // The raw value, not the typed Authorization property: that would parse (and allocate) on every request.
        if (options.ReadBearerTokens && request.Headers.NonValidated.TryGetValues("Authorization", out var authorization))
        {
            foreach (string value in authorization)
            {
                if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && value.Length > 7)
                {
                    ReadToken(value, 7);
                }

                break;
            }
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (options.ExpiryHeader is { } name && response.Headers.NonValidated.TryGetValues(name, out var values))
        {
            foreach (var value in values)
            {
                ReadHeader(name, value);
                break;
            }
        }

        return response;
    }

    private void ReadToken(string header, int start)
    {
        // The same token again (nearly every call) costs one compare; a token that is not a JWT is remembered too.
        var last = Volatile.Read(ref _lastToken);
        var value = header.AsSpan(start).Trim();
        if (last is not null && value.SequenceEqual(last.Token))
        {
            if (last.ExpiresAt is { } exp)
            {
                watch.SeenAgain(exp);
            }

            return;
        }

        string token = value.ToString();
        var seen = JwtExpiry.TryRead(token, out var expiresAt, out var issuedAt) ? new Seen(token, expiresAt, issuedAt) : new Seen(token, null, null);
        Volatile.Write(ref _lastToken, seen);
        if (seen.ExpiresAt is { } read)
        {
            watch.Observe(read, "the bearer JWT's exp claim", seen.IssuedAt);
        }
    }

    private void ReadHeader(string name, string value)
    {
        if (string.Equals(Volatile.Read(ref _lastHeader), value, StringComparison.Ordinal))
        {
            return;
        }

        Volatile.Write(ref _lastHeader, value);

        // GitHub writes "2026-11-26 06:00:00 UTC"; others an HTTP-date or RFC 3339.
        string text = value.Trim();
        if (text.EndsWith(" UTC", StringComparison.OrdinalIgnoreCase))
        {
            text = text[..^4] + "Z";
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt))
        {
            watch.Observe(expiresAt, $"the {name} header");
        }
    }

    /// <summary>The last token sent (kept only to compare with the next, in memory) and what it said.</summary>
    private sealed record Seen(string Token, DateTimeOffset? ExpiresAt, DateTimeOffset? IssuedAt);
}
