using System.Text.RegularExpressions;

namespace Resilient.Integrations.Redaction.Internal;

/// <summary>
/// Keeps credentials out of logs, alerts and anything stored: the actual values of the request's sensitive
/// headers are masked wherever they appear, and well-known secret shapes (bearer tokens, <c>sk-…</c> keys,
/// Google API keys, secret-named JSON members and query parameters) are masked even when not known.
/// </summary>
internal sealed partial class SecretRedactor
{
    public const string Mask = "***";

    public static readonly string[] DefaultSensitiveHeaders =
    [
        "Authorization", "Proxy-Authorization", "api-key", "x-api-key", "x-goog-api-key", "Cookie", "Set-Cookie",
        "Ocp-Apim-Subscription-Key", "x-functions-key",
    ];

    private readonly string[] _sensitiveHeaders;

    public SecretRedactor(IEnumerable<string> sensitiveHeaders) => _sensitiveHeaders = [.. sensitiveHeaders.Distinct(StringComparer.OrdinalIgnoreCase)];

    public static SecretRedactor Default { get; } = new(DefaultSensitiveHeaders);

    private static readonly HashSet<string> StoredSecretNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "key", "api_key", "apikey", "api-key", "access_token", "token", "refresh_token", "id_token", "client_secret", "password", "secret",
        "input_token", "hapikey", // Meta's debug_token, HubSpot's legacy key parameter
    };

    public bool IsSensitiveHeader(string name) => _sensitiveHeaders.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the sensitive header names, in a fixed order.</summary>
    public IReadOnlyList<string> SensitiveHeaders => _sensitiveHeaders;

    /// <summary>Masks secrets in text, including the exact values the request carries in sensitive headers.</summary>
    public string Redact(string? text, HttpRequestMessage? request = null)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        if (request is not null)
        {
            foreach (var secret in KnownSecrets(request))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return RedactShapes(text);
    }

    /// <summary>The path and query of a request address, with secret query values masked. Never the host's credentials.</summary>
    public static string RedactPathAndQuery(Uri? uri)
    {
        if (uri is null)
        {
            return string.Empty;
        }

        string pathAndQuery = uri.IsAbsoluteUri ? uri.PathAndQuery : uri.OriginalString;
        return SecretQueryValue().Replace(pathAndQuery, "$1=" + Mask);
    }

    /// <summary>An address with the parameters that carry secrets dropped entirely (for storing, not for logs).</summary>
    public static string RemoveSecretQueryValues(string address)
    {
        int query = address.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return address;
        }

        // Stricter than the log mask: dropping a harmless parameter (sortKey, code) would change the request.
        var kept = address[(query + 1)..].Split('&').Where(p => !StoredSecretNames.Contains(p.Split('=')[0])).ToArray();
        return kept.Length == 0 ? address[..query] : address[..query] + "?" + string.Join('&', kept);
    }

    /// <summary>An exception's message with secret shapes and any addresses reduced to their host.</summary>
    public static string RedactExceptionMessage(Exception exception) =>
        RedactShapes(AnyUrl().Replace(exception.Message, m => Uri.TryCreate(m.Value, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Host}/{Mask}" : Mask));

    private static string RedactShapes(string text)
    {
        text = BearerToken().Replace(text, "$1 " + Mask);
        text = SecretKey().Replace(text, "$1" + Mask);
        text = SecretJsonMember().Replace(text, "$1\"" + Mask + "\"");
        return SecretQueryValue().Replace(text, "$1=" + Mask);
    }

    private IEnumerable<string> KnownSecrets(HttpRequestMessage request)
    {
        foreach (var name in _sensitiveHeaders)
        {
            if (!request.Headers.NonValidated.TryGetValues(name, out var values))
            {
                continue;
            }

            foreach (var value in values)
            {
                // "Bearer abc": the credential is the part after the scheme.
                int space = value.IndexOf(' ', StringComparison.Ordinal);
                string credential = space > 0 ? value[(space + 1)..].Trim() : value.Trim();
                if (credential.Length >= 4)
                {
                    yield return credential;
                }

                foreach (var part in CookieValues(name, value))
                {
                    yield return part;
                }
            }
        }
    }

    private static IEnumerable<string> CookieValues(string name, string value)
    {
        if (!name.Equals("Cookie", StringComparison.OrdinalIgnoreCase))
        {
            yield break;
        }

        foreach (var pair in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && pair.Length - eq - 1 >= 4)
            {
                yield return pair[(eq + 1)..];
            }
        }
    }

    [GeneratedRegex(@"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")]
    private static partial Regex BearerToken();

    // OpenAI, Stripe (secret and restricted), Google, Slack, GitHub (classic and fine-grained) and SendGrid key shapes.
    [GeneratedRegex(@"\b(sk-|sk_live_|sk_test_|rk_live_|rk_test_|AIza|xox[bpase]-|gh[pousr]_|github_pat_|SG\.)[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]{6,})*")]
    private static partial Regex SecretKey();

    // Any member whose name mentions a key, token, secret or password; the value may be cut off by a bounded prefix.
    [GeneratedRegex(@"(?i)(""[\w.-]*(?:key|token|secret|password|passwd|authorization|cookie|credential)[\w.-]*""\s*:\s*)""(?:[^""\\]|\\.)*(?:""|$)")]
    private static partial Regex SecretJsonMember();

    // Any query or form parameter whose name mentions a key, token, secret, password or signature (refresh_token=, x-api-key=, sig=).
    [GeneratedRegex(@"(?i)(?<![\w.-])([\w.-]*(?:key|token|secret|password|passwd|signature|credential)[\w.-]*|sig|code)=([^&\s""'<>]+)")]
    private static partial Regex SecretQueryValue();

    [GeneratedRegex(@"https?://[^\s""'<>]+")]
    private static partial Regex AnyUrl();
}
