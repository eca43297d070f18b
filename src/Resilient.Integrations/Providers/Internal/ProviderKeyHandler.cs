namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Puts the profile's API key on requests that carry none (the health probe, raw calls). It runs inside the
/// resilience handler, so every attempt gets it and the key never enters a kept copy's address or a queued write.
/// </summary>
internal sealed class ProviderKeyHandler(ProviderProfile profile, string apiKey, string? apiVersion) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!HasCredentials(request))
        {
            request.Headers.TryAddWithoutValidation(profile.KeyHeader, profile.KeyValue(apiKey));
        }

        if (profile.VersionHeader is { } header && apiVersion is not null && !request.Headers.Contains(header))
        {
            request.Headers.TryAddWithoutValidation(header, apiVersion);
        }

        return base.SendAsync(request, cancellationToken);
    }

    private static bool HasCredentials(HttpRequestMessage request) =>
        request.Headers.Authorization is not null ||
        request.Headers.Contains("api-key") || request.Headers.Contains("x-api-key") || request.Headers.Contains("x-goog-api-key") ||
        (request.RequestUri?.Query.Contains("key=", StringComparison.Ordinal) ?? false);
}
