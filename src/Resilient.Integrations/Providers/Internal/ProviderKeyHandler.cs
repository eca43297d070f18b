using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Puts the profile's API key on requests to the provider's own host that carry no credentials of their own
/// (the health probe, raw calls). It runs inside the resilience handler, so every attempt gets it and the key
/// never enters a kept copy's address or a queued write. A request to any other host (a file URL the model
/// returned, a redirect target) never gets it.
/// </summary>
internal sealed class ProviderKeyHandler(
    ProviderProfile profile, string apiKey, string? apiVersion, Uri endpoint, string integration, IOptionsMonitor<ResilientIntegrationOptions> options)
    : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } address && IsProviderHost(address))
        {
            if (!HasCredentials(request))
            {
                request.Headers.TryAddWithoutValidation(profile.KeyHeader, profile.KeyValue(apiKey));
            }

            if (profile.VersionHeader is { } header && apiVersion is not null && !request.Headers.Contains(header))
            {
                request.Headers.TryAddWithoutValidation(header, apiVersion);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }

    private static bool HasCredentials(HttpRequestMessage request) =>
        request.Headers.Authorization is not null ||
        request.Headers.Contains("api-key") || request.Headers.Contains("x-api-key") || request.Headers.Contains("x-goog-api-key") ||
        HasKeyParameter(request.RequestUri);

    // Gemini takes its key as ?key=; a parameter that merely ends in "key" (sortkey=) is not one.
    private static bool HasKeyParameter(Uri? address)
    {
        foreach (var parameter in (address?.Query ?? "").TrimStart('?').Split('&'))
        {
            if (parameter.StartsWith("key=", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsProviderHost(Uri address) =>
        SameOrigin(address, endpoint) || (options.Get(integration).BaseAddress is { } configured && SameOrigin(address, configured));

    private static bool SameOrigin(Uri a, Uri b) =>
        a.IsAbsoluteUri && b.IsAbsoluteUri &&
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) &&
        a.Port == b.Port;
}
