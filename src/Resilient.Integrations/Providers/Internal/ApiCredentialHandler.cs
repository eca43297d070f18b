using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Puts the profile's credential (and the headers the API requires) on requests to the API's own origin that carry
/// none of their own. Inside the resilience handler, so every attempt gets it and it never enters a kept copy or a
/// queued write; a request to any other host never gets it.
/// </summary>
internal sealed class ApiCredentialHandler(
    ApiProfile profile, ApiProfileOptions profileOptions, Uri endpoint, string integration, IOptionsMonitor<ResilientIntegrationOptions> options)
    : DelegatingHandler
{
    private readonly string? _credential = profileOptions.AccessToken is { } token ? profile.KeyValue(token, profileOptions) : null;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } address && (SameOrigin(address, endpoint) || (options.Get(integration).BaseAddress is { } configured && SameOrigin(address, configured))))
        {
            if (_credential is not null && request.Headers.Authorization is null && !request.Headers.Contains(profile.KeyHeader) && !HasTokenParameter(address))
            {
                request.Headers.TryAddWithoutValidation(profile.KeyHeader, _credential);
            }

            foreach (var (name, value) in profile.RequiredHeaders)
            {
                if (!request.Headers.Contains(name))
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }

        return base.SendAsync(request, cancellationToken);
    }

    // Meta and Slack also take the token as a parameter; a request that brings its own is left alone.
    private static bool HasTokenParameter(Uri address)
    {
        foreach (var parameter in address.Query.TrimStart('?').Split('&'))
        {
            if (parameter.StartsWith("access_token=", StringComparison.Ordinal) || parameter.StartsWith("token=", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        a.IsAbsoluteUri && b.IsAbsoluteUri &&
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) &&
        a.Port == b.Port;
}
